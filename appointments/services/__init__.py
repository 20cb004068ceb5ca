"""Every write to appointments, with the scheduling rules (DOMAIN.md R1–R5,
R12). Views and the API call these; nothing else changes an appointment.

Split by sub-domain: `booking` (one session, and the checks every booking
shares), `series`, `changes` (reschedule, cancel, check-in, no-show,
complete) and `waitlist`. Import from `appointments.services`."""

from appointments.services.booking import appointment_book, check_plan_bookable, raise_for
from appointments.services.changes import (
    ACTION_WORDS,
    TRANSITIONS,
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_no_show,
    appointment_reschedule,
    appointment_reschedule_by_patient,
    appointments_cancel_upcoming,
)
from appointments.services.series import Occurrence, SeriesPreview, series_book, series_preview
from appointments.services.waitlist import waitlist_add, waitlist_remove

__all__ = [
    "ACTION_WORDS",
    "TRANSITIONS",
    "Occurrence",
    "SeriesPreview",
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_confirm",
    "appointment_no_show",
    "appointment_reschedule",
    "appointment_reschedule_by_patient",
    "appointments_cancel_upcoming",
    "check_plan_bookable",
    "raise_for",
    "series_book",
    "series_preview",
    "waitlist_add",
    "waitlist_remove",
]
