"""The 14-day silence recall with a real Celery worker (Redis broker), a
real SMTP server and PostgreSQL: beat's two tasks (plan the recalls, sweep
the outbox) run twice; the patient gets one recall, the next sweep sends
nothing more, and a patient who opted out of email gets none."""

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Reminder
from appointments.tasks import reminders_sweep
from appointments.tests.reminders_support import celery_worker, reminder_id, wait_until
from clinic.tests.factories import UserFactory
from homecare import services
from homecare.models import HomeProgram
from homecare.tasks import home_recalls_plan
from homecare.tests.conftest import PROGRAM
from patients.tests.factories import PatientFactory, ScreeningFactory
from treatments.tests.factories import PlanFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Kind = Reminder.Kind


def home_program(therapist, *, opted_in: bool) -> HomeProgram:
    patient = PatientFactory(reminder_opt_in=opted_in)
    ScreeningFactory(patient=patient)
    program = services.program_start(
        plan=PlanFactory(patient=patient, tap_water=True), user=therapist, values=PROGRAM
    )
    # Started 15 days ago and nothing logged since: a silent episode.
    HomeProgram.objects.filter(pk=program.pk).update(started_at=timezone.now() - dt.timedelta(days=15))
    return program


def waiting():
    """Rows due now that no sweep has finished with."""
    busy = [Reminder.Status.PENDING, Reminder.Status.SENDING]
    return Reminder.objects.filter(status__in=busy, due_at__lte=timezone.now())


def test_the_silence_recall_is_sent_once_and_never_to_a_patient_who_opted_out(env, smtp_sink, tmp_path):
    therapist = UserFactory(role="therapist")
    listening = home_program(therapist, opted_in=True)
    opted_out = home_program(therapist, opted_in=False)
    with celery_worker(env(), tmp_path / "worker.log") as worker:
        for _ in range(2):  # beat's hourly planning and its sweep, twice
            home_recalls_plan.delay()
            assert wait_until(lambda: Reminder.objects.filter(kind=Kind.HOME_SILENCE_RECALL).count() == 2), (
                worker.output()
            )
            reminders_sweep.delay()
            assert wait_until(
                lambda: (
                    not Reminder.objects.filter(status__in=[Reminder.Status.PENDING, Reminder.Status.SENDING])
                    .exclude(due_at__gt=timezone.now())
                    .exists()
                )
            ), worker.output()
        messages = smtp_sink.settle(quiet=2.0)
    recalls = {r.plan_id: r for r in Reminder.objects.filter(kind=Kind.HOME_SILENCE_RECALL)}
    assert recalls[listening.plan_id].status == Reminder.Status.SENT
    assert recalls[opted_out.plan_id].status == Reminder.Status.SKIPPED
    sent = [Reminder.objects.get(pk=reminder_id(m)) for m in messages]
    assert sorted((r.kind, r.patient_id) for r in sent) == sorted(
        [(Kind.HOME_LINK, listening.plan.patient_id), (Kind.HOME_SILENCE_RECALL, listening.plan.patient_id)]
    )
    (recall,) = [m for m in messages if reminder_id(m) == recalls[listening.plan_id].pk]
    assert recall["To"] == listening.plan.patient.email
