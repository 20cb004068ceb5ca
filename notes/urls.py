"""Session-note pages. Their paths predate this app (a note sits under its
visit in /schedule/, progress and billing under /plans/) and are kept."""

from django.urls import path

from notes import views

app_name = "notes"

urlpatterns = [
    path("schedule/<int:pk>/note/", views.note, name="note"),
    path("schedule/<int:pk>/note/sign/", views.sign, name="sign"),
    path("schedule/<int:pk>/note/addenda/", views.addendum, name="addendum"),
    path("plans/<int:pk>/progress/", views.progress, name="progress"),
    path("plans/billing/", views.billing, name="billing"),
]
