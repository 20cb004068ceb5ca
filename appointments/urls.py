from appointments.log_views import urlpatterns as message_log_urlpatterns

app_name = "appointments"

urlpatterns: list = []

# The message log (reminders): /schedule/<pk>/messages/ and friends.
urlpatterns += message_log_urlpatterns
