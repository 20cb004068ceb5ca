"""The patient's home-program pages, mounted under /r/ beside the visit links."""

from django.urls import path

from homecare import views

app_name = "homelinks"

urlpatterns = [
    path("intake/<str:token>/", views.intake, name="intake"),
    path("home/<str:token>/", views.home, name="home"),
]
