"""Every write to appointments, with the scheduling rules (DOMAIN.md R1–R5,
R12). Views and the API call these; nothing else changes an appointment.

Split by sub-domain: `booking` (one session, and the checks every booking
shares), `series`, `changes` (reschedule, cancel, check-in, no-show,
complete) and `waitlist`. Import from `appointments.services`."""

from appointments.services.booking import (
    appointment_book,
    check_plan_bookable,
    evaluation_book,
    missing_related,
    raise_for,
)
from appointments.services.calendar_feed import calendar_feed_rotate, calendar_feed_url
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
    cancel_would_be_late,
)
from appointments.services.series import Occurrence, SeriesPreview, series_book, series_preview
from appointments.services.slots import SlotDay, SlotSearch, slot_search
from appointments.services.waitlist import (
    SlotTaken,
    entry_bookable,
    match_problems,
    waitlist_add,
    waitlist_after_booked,
    waitlist_claim,
    waitlist_close_for_plan,
    waitlist_entry_matches,
    waitlist_offer,
    waitlist_remove,
)

__all__ = [
    "ACTION_WORDS",
    "TRANSITIONS",
    "Occurrence",
    "SeriesPreview",
    "appointment_book",
    "calendar_feed_rotate",
    "calendar_feed_url",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_confirm",
    "appointment_no_show",
    "appointment_reschedule",
    "appointment_reschedule_by_patient",
    "appointments_cancel_upcoming",
    "cancel_would_be_late",
    "check_plan_bookable",
    "evaluation_book",
    "missing_related",
    "raise_for",
    "SlotDay",
    "SlotSearch",
    "series_book",
    "series_preview",
    "slot_search",
    "entry_bookable",
    "match_problems",
    "waitlist_add",
    "waitlist_after_booked",
    "waitlist_close_for_plan",
    "waitlist_entry_matches",
    "waitlist_claim",
    "waitlist_offer",
    "SlotTaken",
    "waitlist_remove",
]
