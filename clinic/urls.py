from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic import views
from clinic.forms import LoginForm

# The split view serves Swagger UI's start-up script as a file, so no inline
# script; Swagger UI sets inline styles, allowed on this page only.
docs_view = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api:schema")
)

api_patterns = [
    path("", include("clinic.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, so no
    # inline script; Swagger UI sets inline styles, allowed on this page only.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("metrics", views.metrics, name="metrics"),
    path(
        "accounts/login/",
        login_not_required(
            auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True)
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/keepalive/", views.keepalive, name="keepalive"),
    path("admin/", admin.site.urls),
    path("patients/", include("patients.urls")),
    path("", include("notes.urls")),
    path("", include("supplies.urls")),
    path("plans/", include("treatments.urls")),
    path("schedule/", include("appointments.urls")),
    path("home-program/", include("homecare.urls")),
    path("api/v1/", include((api_patterns, "api"))),
    # The patient's signed links in reminder emails (no login).
    path("r/", include("homecare.link_urls")),
    path("r/", include("appointments.link_urls")),
]

handler403 = "clinic.views.error_403"
handler404 = "clinic.views.error_404"
handler500 = "clinic.views.error_500"

admin.site.site_header = "Phoresis administration"
admin.site.site_title = "Phoresis"
