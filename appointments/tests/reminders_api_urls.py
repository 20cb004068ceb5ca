"""The project's URLs plus /api/v1/reminders/, until appointments/api.py
registers the viewset with the real router (reminders_api.register)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from appointments.reminders_api import register
from clinic.urls import urlpatterns as project_urlpatterns

router = DefaultRouter()
router.include_format_suffixes = False
register(router)

urlpatterns = [path("api/v1/", include(router.urls)), *project_urlpatterns]
