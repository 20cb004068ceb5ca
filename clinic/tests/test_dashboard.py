"""The role dashboards on the home page: what each selector picks, the page
each role sees, and a fixed number of queries however many rows there are."""

import datetime as dt
import itertools

import pytest
from django.urls import reverse

from appointments.models import Appointment, WaitlistEntry
from appointments.selectors import FREED_SLOTS_CHECKED, MATCH_CHECKS
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic import dashboard
from clinic.localtime import local_datetime
from clinic.tests.factories import UserFactory
from notes.models import SessionNote
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 3, 10)  # a Wednesday
NOW = local_datetime(TODAY, dt.time(10, 0))
_rooms = itertools.count(1)


def visit(start, *, plan=None, therapist=None, status=Appointment.Status.SCHEDULED, **fields):
    """An appointment made directly (in the past too): booking rules are the
    services' business, these tests are about what the dashboard reads."""
    plan = plan or PlanFactory()
    return Appointment.objects.create(
        patient=plan.patient,
        plan=plan,
        therapist=therapist or TherapistFactory(),
        room=RoomFactory(name=f"Dash room {next(_rooms)}"),
        start=start,
        end=start + dt.timedelta(minutes=30),
        status=status,
        **fields,
    )


def at(day_offset: int, hhmm: str) -> dt.datetime:
    hour, minute = map(int, hhmm.split(":"))
    return local_datetime(TODAY + dt.timedelta(days=day_offset), dt.time(hour, minute))


# -- front desk ----------------------------------------------------------------
def test_front_desk_sees_todays_arrivals_in_order_without_cancelled_visits():
    late = visit(at(0, "15:00"))
    early = visit(at(0, "08:30"), status=Appointment.Status.CHECKED_IN)
    visit(at(0, "11:00"), status=Appointment.Status.CANCELLED)
    visit(at(1, "09:00"))
    visit(at(-1, "09:00"))
    board = dashboard.front_desk_dashboard(now=NOW)
    assert [a.pk for a in board["arrivals"]] == [early.pk, late.pk]
    assert board["waiting"] == 1


def test_front_desk_sees_tomorrows_visits_nobody_confirmed():
    unconfirmed = visit(at(1, "09:00"))
    visit(at(1, "10:00"), status=Appointment.Status.CONFIRMED)
    visit(at(2, "09:00"))
    visit(at(0, "16:00"))
    board = dashboard.front_desk_dashboard(now=NOW)
    assert [a.pk for a in board["unconfirmed"]] == [unconfirmed.pk]


def test_front_desk_sees_freed_slots_a_waiting_patient_could_take():
    freed = visit(
        at(2, "09:00"), status=Appointment.Status.CANCELLED, cancelled_at=NOW - dt.timedelta(hours=1)
    )
    DeviceFactory(home_room=freed.room)  # a match must pass every booking rule, R3 included
    waiting = PlanFactory()
    entry = WaitlistEntry.objects.create(patient=waiting.patient, plan=waiting)
    visit(at(3, "09:00"), status=Appointment.Status.CANCELLED, cancelled_at=NOW, plan=PlanFactory(phono=True))
    board = dashboard.front_desk_dashboard(now=NOW)
    assert board["waitlist_matches"] == [(freed, [entry])]


# -- therapist -----------------------------------------------------------------
def test_therapist_sees_only_their_own_day():
    me = TherapistFactory()
    mine = visit(at(0, "09:00"), therapist=me)
    visit(at(0, "10:00"))  # a colleague's
    visit(at(1, "09:00"), therapist=me)
    board = dashboard.therapist_dashboard(user=me.user, now=NOW)
    assert [a.pk for a in board["my_day"]] == [mine.pk]


def test_therapist_sees_visits_given_whose_note_is_missing_or_a_draft(monkeypatch):
    me = TherapistFactory()
    checked_in = visit(at(0, "09:00"), therapist=me, status=Appointment.Status.CHECKED_IN)
    past_draft = visit(at(-2, "09:00"), therapist=me, status=Appointment.Status.CHECKED_IN)
    SessionNote.objects.create(appointment=past_draft)
    signed = visit(at(-3, "09:00"), therapist=me, status=Appointment.Status.COMPLETED)
    SessionNote.objects.create(
        appointment=signed, status=SessionNote.Status.SIGNED, signed_by=me.user, signed_at=NOW
    )
    past_unmarked = visit(at(-1, "09:00"), therapist=me)
    visit(at(0, "15:00"), therapist=me)  # later today: not given yet
    visit(at(-4, "09:00"), therapist=me, status=Appointment.Status.NO_SHOW)
    visit(at(-5, "09:00"), therapist=me, status=Appointment.Status.CANCELLED)
    visit(at(-1, "11:00"), status=Appointment.Status.CHECKED_IN)  # a colleague's
    board = dashboard.therapist_dashboard(user=me.user, now=NOW)
    assert [a.pk for a in board["unsigned"]] == [past_draft.pk, past_unmarked.pk, checked_in.pk]
    assert board["unsigned_count"] == 3
    monkeypatch.setattr(dashboard, "UNSIGNED_SHOWN", 2)
    board = dashboard.therapist_dashboard(user=me.user, now=NOW)
    assert [a.pk for a in board["unsigned"]] == [past_draft.pk, past_unmarked.pk]
    assert board["unsigned_count"] == 3


# -- clinic admin ----------------------------------------------------------------
def test_admin_sees_devices_due_within_30_days_and_overdue_ones_first():
    overdue = DeviceFactory(calibration_due=TODAY - dt.timedelta(days=1))
    soon = DeviceFactory(calibration_due=TODAY + dt.timedelta(days=30))
    DeviceFactory(calibration_due=TODAY + dt.timedelta(days=31))
    DeviceFactory(calibration_due=TODAY, in_service=False)
    DeviceFactory(calibration_due=None)
    board = dashboard.admin_dashboard(now=NOW)
    assert board["devices"] == [overdue, soon]
    assert board["overdue_devices"] == 1


def test_admin_sees_open_plans_with_two_or_fewer_authorized_sessions_left():
    from treatments.models import TreatmentPlan

    running_out = PlanFactory(sessions_authorized=2)
    one_left = PlanFactory(sessions_authorized=3)
    visit(at(1, "09:00"), plan=one_left)
    visit(at(3, "09:00"), plan=one_left)
    PlanFactory(sessions_authorized=6)
    PlanFactory(sessions_authorized=1, status=TreatmentPlan.Status.COMPLETED)
    board = dashboard.admin_dashboard(now=NOW)
    assert [p.pk for p in board["plans_running_out"]] == [one_left.pk, running_out.pk]
    assert [p.remaining for p in board["plans_running_out"]] == [1, 2]


def test_admin_counts_this_months_late_cancellations_and_no_shows_per_patient():
    often = PlanFactory()
    visit(at(-1, "09:00"), plan=often, status=Appointment.Status.NO_SHOW)
    visit(at(-2, "09:00"), plan=often, status=Appointment.Status.NO_SHOW)
    late = dict(status=Appointment.Status.CANCELLED, late_cancellation=True)
    visit(at(1, "09:00"), plan=often, cancelled_at=NOW - dt.timedelta(hours=2), **late)
    once = PlanFactory()
    visit(at(2, "09:00"), plan=once, cancelled_at=NOW - dt.timedelta(days=1), **late)
    visit(at(3, "09:00"), plan=once, status=Appointment.Status.CANCELLED, cancelled_at=NOW)  # in time
    visit(at(-1, "09:00"), plan=once, cancelled_at=at(-10, "09:00"), **late)  # last month
    visit(at(-12, "09:00"), plan=once, status=Appointment.Status.NO_SHOW)  # last month
    board = dashboard.admin_dashboard(now=NOW)
    rows = [(r["patient_id"], r["late_cancellations"], r["no_shows"]) for r in board["attendance"]]
    assert rows == [(often.patient_id, 1, 2), (once.patient_id, 1, 0)]
    assert (board["late_cancellations"], board["no_shows"]) == (2, 2)


def test_dashboard_sections_follow_the_roles_held():
    both = UserFactory(role="front_desk")
    both.groups.add(*UserFactory(role="therapist").groups.all())
    assert set(dashboard.dashboard_for(both, now=NOW)) == {"front_desk", "therapist"}
    admin = UserFactory(role="clinic_admin")
    assert set(dashboard.dashboard_for(admin, now=NOW)) == {"admin"}
    assert dashboard.dashboard_for(UserFactory(), now=NOW) == {}


# -- the page --------------------------------------------------------------------
@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_front_desk_home_has_check_in_buttons_back_to_the_dashboard(client, front_desk, frozen):
    arrival = visit(at(0, "11:00"))
    client.force_login(front_desk)
    body = client.get(reverse("home")).content.decode()
    assert "Today’s arrivals" in body and "Not confirmed for tomorrow" in body
    assert reverse("appointments:check_in", args=[arrival.pk]) in body
    assert f'aria-label="Check in {arrival.patient.full_name}"' in body
    response = client.post(reverse("appointments:check_in", args=[arrival.pk]), {"next": reverse("home")})
    assert response["Location"] == reverse("home")
    arrival.refresh_from_db()
    assert arrival.status == Appointment.Status.CHECKED_IN


def test_therapist_home_links_each_unsigned_session_to_its_note(client, frozen):
    me = TherapistFactory()
    given = visit(at(0, "09:00"), therapist=me, status=Appointment.Status.CHECKED_IN)
    client.force_login(me.user)
    body = client.get(reverse("home")).content.decode()
    assert "My day" in body and "Notes to write or sign" in body
    assert reverse("notes:note", args=[given.pk]) in body
    assert "Wed 10 Mar 2027, 09:00" in body


def test_front_desk_home_never_links_to_note_content(client, front_desk, frozen):
    visit(at(0, "09:00"), status=Appointment.Status.CHECKED_IN)
    client.force_login(front_desk)
    body = client.get(reverse("home")).content.decode()
    assert "/note/" not in body and "Notes to write or sign" not in body


def test_admin_home_shows_calibration_authorizations_and_attendance(client, clinic_admin, frozen):
    DeviceFactory(name="Old generator", calibration_due=TODAY - dt.timedelta(days=3))
    client.force_login(clinic_admin)
    body = client.get(reverse("home")).content.decode()
    assert "Old generator" in body and "Overdue since Sun 7 Mar 2027" in body
    assert "Authorizations running out" in body
    assert "Late cancellations and no-shows this month" in body


def test_empty_dashboards_say_what_to_do_next(client, front_desk, frozen):
    client.force_login(front_desk)
    body = client.get(reverse("home")).content.decode()
    assert "No visits today." in body and reverse("patients:list") in body


def _fill(numbers, therapist) -> None:
    for i in numbers:
        plan = PlanFactory(sessions_authorized=2)
        hhmm = f"{8 + i // 2:02d}:{(i % 2) * 30:02d}"
        visit(at(0, hhmm), plan=plan, therapist=therapist)
        visit(at(1, hhmm), plan=plan, therapist=therapist)
        visit(at(-1, hhmm), plan=plan, therapist=therapist, status=Appointment.Status.CHECKED_IN)
        DeviceFactory(calibration_due=TODAY + dt.timedelta(days=i))
        visit(at(-2, "09:00"), plan=plan, status=Appointment.Status.NO_SHOW)
        WaitlistEntry.objects.create(patient=plan.patient, plan=plan)
        visit(at(5, "09:00"), status=Appointment.Status.CANCELLED, cancelled_at=NOW)


@pytest.mark.parametrize("role", ["front_desk", "therapist", "clinic_admin"])
def test_each_dashboard_runs_a_fixed_number_of_queries(client, frozen, role, django_assert_max_num_queries):
    user = UserFactory(role=role)
    therapist = TherapistFactory(user=user) if role == "therapist" else TherapistFactory()
    client.force_login(user)
    # The front desk's board adds authorization alerts (R22) and the visits
    # patients moved from their links; the clinic admin's also the supplies
    # alerts: settings, low stock, expiring lots, expired lots tried. Each a
    # fixed number of queries, however many rows. The therapist's adds the
    # home program's follow-ups: paused, silent and HDSS-rising programs
    # (one query each, two for the HDSS scores) and intakes to review.
    budget = {"front_desk": 13, "therapist": 15, "clinic_admin": 15}[role]
    _fill(range(2), therapist)
    with django_assert_max_num_queries(budget):
        assert client.get(reverse("home")).status_code == 200
    _fill(range(2, 12), therapist)
    if role == "front_desk":
        # Waitlist matches run the booking rules (R1–R5, R22) for at most
        # FREED_SLOTS_CHECKED slots × MATCH_CHECKS entries: bounded, one count each.
        budget += FREED_SLOTS_CHECKED * MATCH_CHECKS
    with django_assert_max_num_queries(budget):
        assert client.get(reverse("home")).status_code == 200
