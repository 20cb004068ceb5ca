"""Patient emails (R13, R15) as an outbox.

Rows (`appointments.models.Reminder`) are planned inside the transaction that
books, moves or cancels a visit (`planning`); a Celery beat sweep claims due
rows, re-checks them and sends them outside any transaction (`sending`).
Content lives in `content` and the templates (Jinja2, rendered by
clinic.jinja.mail_environment) under templates/jinja2/appointments/email/;
signed patient links in `tokens`.

Delivery guarantee, in short: a row is handed to the mail server at most
once. The one moment a crash leaves in doubt (after the message was handed
over, before the row says "sent") shows as failed with an explicit
"unconfirmed" error instead of being sent again; see `sending`.
"""

from appointments.reminders.planning import (
    offer_waitlist_slot,
    plan_for_booking,
    plan_for_cancellation,
    plan_for_reschedule,
    plan_for_series,
    plan_maintenance_recalls,
    reminder_resend,
)
from appointments.reminders.sending import reminders_send, reminders_sweep

__all__ = [
    "offer_waitlist_slot",
    "plan_for_booking",
    "plan_for_cancellation",
    "plan_for_reschedule",
    "plan_for_series",
    "plan_maintenance_recalls",
    "reminder_resend",
    "reminders_send",
    "reminders_sweep",
]
