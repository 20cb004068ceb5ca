"""Public signed-link pages, mounted at /r/ (clinic/urls.py)."""

from django.urls import path

from appointments import links

app_name = "links"

urlpatterns = [
    path("offer/<str:token>/", links.claim, name="claim"),
    path("unsubscribe/<str:token>/", links.unsubscribe, name="unsubscribe"),
    path("<str:token>/", links.detail, name="detail"),
    path("<str:token>/confirm/", links.confirm, name="confirm"),
    path("<str:token>/cancel/", links.cancel, name="cancel"),
    path("<str:token>/reschedule/", links.reschedule, name="reschedule"),
]
