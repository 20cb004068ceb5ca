from django.urls import path

from appointments import views
from appointments.log_views import urlpatterns as message_log_urlpatterns

app_name = "appointments"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("events/", views.events, name="events"),
    path("resources/", views.resources, name="resources"),
    path("day/", views.day_sheet, name="day"),
    path("book/", views.book, name="book"),
    path("new/", views.new_visit, name="new_visit"),
    path("evaluations/book/", views.evaluation_book, name="evaluation_book"),
    path("plans/<int:plan_pk>/series/", views.series, name="series"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("<int:pk>/move/", views.move, name="move"),
    path("<int:pk>/check-in/", views.check_in, name="check_in"),
    path("<int:pk>/no-show/", views.no_show, name="no_show"),
    path("calendar-feed/rotate/", views.calendar_feed_rotate, name="calendar_feed_rotate"),
    path("waitlist/", views.waitlist, name="waitlist"),
    path("waitlist/add/", views.waitlist_add, name="waitlist_add"),
    path("waitlist/<int:pk>/remove/", views.waitlist_remove, name="waitlist_remove"),
    path("waitlist/<int:pk>/offer/", views.waitlist_offer, name="waitlist_offer"),
]
urlpatterns += message_log_urlpatterns
