"""`seed_demo` on a fresh database (R17's demo fix): every completed visit
has a signed note, none dated before its plan's prescription, so the
therapist's "notes to sign" list starts clear."""

import pytest
from django.core.management import call_command

from appointments.models import Appointment
from clinic.localtime import local_date
from notes.models import SessionNote

pytestmark = pytest.mark.django_db


def test_seed_demo_signs_every_completed_visit_after_its_prescription():
    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)  # idempotent: no second note
    completed = list(Appointment.objects.filter(status="completed").select_related("plan", "note"))
    assert completed, "the demo has history"
    assert all(a.note.status == SessionNote.Status.SIGNED for a in completed)
    assert not SessionNote.objects.filter(status=SessionNote.Status.DRAFT).exists()
    for appointment in completed:
        assert local_date(appointment.start) >= appointment.plan.prescription_date
        note = appointment.note
        assert None not in (
            note.skin_before or None,
            note.skin_after or None,
            note.pain_before,
            note.pain_after,
        )
