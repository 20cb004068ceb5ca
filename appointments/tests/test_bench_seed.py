"""seed_bench: the benchmark clinic is realistic (hours, closures, leave,
spacing), never double-books anyone, is the same whether grown in steps or
made in one go, and touches nothing but its own rows."""

import datetime as dt
from collections import Counter, defaultdict
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from appointments.models import Appointment, ClinicClosure, Device, Room, Therapist, TherapistException
from bench import dataset, seeding
from clinic.localtime import clinic_tz
from patients.models import Patient
from patients.tests.factories import PatientFactory
from treatments.models import TreatmentPlan
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

ANCHOR = dt.date(2026, 3, 4)  # a Wednesday; the two years span a DST change each spring and autumn
NOW = dt.datetime(2026, 3, 4, 12, 30, tzinfo=clinic_tz())
PATIENTS = 300


def _seed(appointments: int, **kwargs) -> seeding.SeedReport:
    return seeding.seed(appointments=appointments, patients=PATIENTS, anchor=ANCHOR, now=NOW, **kwargs)


def _snapshot() -> list[tuple]:
    return list(
        seeding.stream_appointments()
        .order_by("start", "therapist__display_name")
        .values_list(
            "therapist__display_name",
            "room__name",
            "device__serial_number",
            "patient__mrn",
            "start",
            "end",
            "status",
            "plan__modality",
            "plan__body_site",
        )
    )


def test_seed_builds_the_clinic_with_n_appointments():
    report = _seed(400)
    assert (report.before, report.after, report.anchor) == (0, 400, ANCHOR)
    assert Therapist.objects.count() == dataset.THERAPISTS
    assert Room.objects.count() == dataset.ROOMS
    assert Device.objects.count() == 30
    assert Patient.objects.count() == PATIENTS
    assert Appointment.objects.count() == 400
    waiting = TreatmentPlan.objects.filter(indication=dataset.WAITING_INDICATION)
    assert waiting.count() == dataset.WAITING_PLANS
    assert not Appointment.objects.filter(plan__in=waiting).exists()
    starts = Appointment.objects.values_list("start", flat=True)
    assert min(starts).date() >= ANCHOR - dt.timedelta(days=dataset.DAYS_BACK)
    assert max(starts).date() <= ANCHOR + dt.timedelta(days=dataset.DAYS_AHEAD + 1)


def test_no_therapist_room_device_or_patient_is_ever_double_booked():
    _seed(1500)
    taken = defaultdict(list)
    for row in Appointment.objects.values(
        "therapist_id", "room_id", "device_id", "patient_id", "start", "end"
    ):
        for resource in ("therapist_id", "room_id", "device_id", "patient_id"):
            taken[(resource, row[resource])].append((row["start"], row["end"]))
    for spans in taken.values():
        for (_, end), (start, _) in pairwise(sorted(spans)):
            assert end <= start


def test_visits_fall_in_working_hours_never_on_closures_leave_or_training():
    _seed(1500)
    hours = defaultdict(list)
    for therapist in Therapist.objects.prefetch_related("working_hours", "exceptions"):
        for block in therapist.working_hours.all():
            hours[(therapist.pk, block.weekday)].append((block.start_time, block.end_time))
    closed = set(ClinicClosure.objects.values_list("start_date", flat=True))
    away = defaultdict(list)
    for exc in TherapistException.objects.all():
        away[exc.therapist_id].append((exc.start, exc.end))
    assert closed and away
    tz = clinic_tz()
    for appt in Appointment.objects.all():
        start, end = appt.start.astimezone(tz), appt.end.astimezone(tz)
        assert start.date() not in closed
        assert any(
            s <= start.time() and end.time() <= e for s, e in hours[(appt.therapist_id, start.weekday())]
        )
        assert not any(a < appt.end and appt.start < b for a, b in away[appt.therapist_id])


def test_plans_keep_their_spacing_weekly_frequency_and_session_count():
    _seed(1500)
    sessions = defaultdict(list)
    for appt in Appointment.objects.select_related("plan"):
        sessions[appt.plan].append(appt.start.astimezone(clinic_tz()))
    for plan, starts in sessions.items():
        starts.sort()
        assert len(starts) <= plan.sessions_prescribed
        for earlier, later in pairwise(starts):
            # wall-clock spacing: one hour less across a DST change
            assert later - earlier >= dt.timedelta(hours=plan.min_interval_hours - 1)
        weeks = Counter(s.isocalendar()[:2] for s in starts)
        assert max(weeks.values()) <= plan.frequency_per_week


def test_statuses_follow_the_clock():
    _seed(1500)
    past = Counter(Appointment.objects.filter(end__lte=NOW).values_list("status", flat=True))
    future = Counter(Appointment.objects.filter(start__gt=NOW).values_list("status", flat=True))
    assert set(past) <= {"completed", "no_show", "cancelled"}
    assert set(future) <= {"scheduled", "confirmed", "cancelled"}
    assert past["completed"] > 0.8 * sum(past.values())
    assert future["scheduled"] > future["confirmed"] > 0
    late = Appointment.objects.filter(status="cancelled", late_cancellation=True)
    assert all(a.start - a.cancelled_at < dt.timedelta(hours=24) for a in late)


def test_growing_in_steps_gives_the_same_data_as_one_go():
    _seed(150)
    _seed(700)
    stepped = _snapshot()
    assert len(stepped) == 700
    _seed(700, flush_first=True)
    assert _snapshot() == stepped
    # the course cut at 150 was continued, not restarted: no plan has more than it prescribes
    counts = Counter(seeding.stream_appointments().values_list("plan_id", flat=True))
    assert all(n <= 10 for n in counts.values())


def test_seeding_again_adds_nothing_and_refuses_to_shrink():
    _seed(300)
    assert _seed(300).after == 300
    assert Appointment.objects.count() == 300
    with pytest.raises(CommandError, match="use --flush"):
        call_command("seed_bench", "--appointments", "100")


def test_flush_removes_only_the_benchmark_rows():
    mine = PlanFactory()
    other = PatientFactory()
    _seed(300)
    call_command("seed_bench", "--appointments", "0", "--flush")
    assert not Appointment.objects.exists()
    assert not Therapist.objects.exists() and not Room.objects.exists()
    assert set(Patient.objects.values_list("pk", flat=True)) == {mine.patient_id, other.pk}
    assert TreatmentPlan.objects.get() == mine


def test_command_reports_what_it_did(capsys):
    call_command("seed_bench", "--appointments", "120", "--patients", "150", "--anchor", "2026-03-04")
    out = capsys.readouterr().out
    assert "120 appointments (added 120) around 2026-03-04" in out
    assert Patient.objects.filter(mrn__startswith=dataset.MRN_PREFIX).count() == 150


@pytest.mark.postgres
def test_postgres_exclusion_constraints_accept_the_whole_dataset():
    """On PostgreSQL the database itself vouches that nothing overlaps."""
    _seed(3000)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint"
            " WHERE conname LIKE 'appointment_no_overlap_%%' AND contype = 'x'"
        )
        assert cursor.fetchone()[0] == 4
    assert seeding.stream_appointments().count() == 3000
