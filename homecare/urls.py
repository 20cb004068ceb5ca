from django.urls import path

from homecare import views

app_name = "homecare"

urlpatterns = [
    path("plans/<int:pk>/", views.program, name="program"),
    path("plans/<int:pk>/rotate-link/", views.rotate_link, name="rotate_link"),
    path("plans/<int:pk>/revoke-link/", views.revoke_link, name="revoke_link"),
    path("plans/<int:pk>/review/", views.review, name="review"),
    path("plans/<int:pk>/end/", views.end, name="end"),
    path("intakes/<int:pk>/", views.intake_review, name="intake_review"),
]
