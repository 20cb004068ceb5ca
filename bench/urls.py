"""The app's URLs plus the bare baseline views under /bench/bare/."""

from django.urls import path

from bench import bare
from clinic.urls import handler403, handler404, handler500  # noqa: F401
from clinic.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/bare/events/", bare.events, name="bare-events"),
    path("bench/bare/day/", bare.day_sheet, name="bare-day"),
    path("bench/bare/insert/", bare.insert, name="bare-insert"),
    *app_urlpatterns,
]
