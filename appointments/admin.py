from appointments.reminders.admin import ReminderAdmin  # noqa: F401  (registers the read-only outbox)
