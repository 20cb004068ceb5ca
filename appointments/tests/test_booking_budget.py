"""The booking path's query budget (issue 19), as the front desk's browser
calls it: a logged-in session (session, user and role lookups included),
POST /api/v1/appointments/ with plan, start and therapist; every rule
(R1–R5), the insert, its history and audit rows, the outbox rows (R13) and
the response. The count must not grow with the day's bookings or the
clinic's history, and stays within BOOKING_BUDGET, issue 19's target of 12.

The 12, on PostgreSQL inside the test's transaction (so the view's atomic
block shows as a SAVEPOINT; in production it is BEGIN/COMMIT, not counted):
the session; the user with their role groups (clinic.auth.SessionUserBackend);
SAVEPOINT; the plan, locked; one UNION ALL read under that lock of the named
therapist, rooms, devices, closures, working hours, absences, the plan's
authorizations and payers, its waitlist entry, the clinic's rules and the
day's bookings with the plan's sessions (R1–R5, R19, R22: Schedule);
SAVEPOINT, INSERT of the visit, its audit row, RELEASE (the savepoint turns a
lost race on the exclusion constraints into a 409 that names the clash);
the history row; the outbox rows; RELEASE."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.tests.factories import TherapistFactory
from appointments.tests.test_query_budgets import _plan, _visits

pytestmark = pytest.mark.django_db

# 28 before issue 19's work (26 before authorizations and the waitlist exit check).
BOOKING_BUDGET = 12


def _book(client, therapist, plan, start):
    with CaptureQueriesContext(connection) as captured:
        response = client.post(
            "/api/v1/appointments/",
            {"plan": plan.pk, "start": start.isoformat(), "therapist": therapist.pk},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content[:300]
    return [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def desk(client, front_desk):
    client.force_login(front_desk)
    return client


@pytest.fixture
def booked_queries(desk, therapist, room, device, at):
    _book(desk, therapist, _plan(), at(4, "08:00"))  # the first booking makes the clinic-rules row
    return _book(desk, therapist, _plan(), at(3, "08:00"))


def test_booking_stays_within_its_query_budget(booked_queries):
    assert len(booked_queries) <= BOOKING_BUDGET, "\n".join(q[:120] for q in booked_queries)


def test_booking_costs_the_same_however_busy_the_day_and_long_the_history(
    desk, therapist, room, device, at, booked_queries
):
    _visits(at, therapist, range(32, 46))  # the day fills up
    _visits(at, TherapistFactory(), range(16, 30))  # and another day, another therapist
    busy = _book(desk, therapist, _plan(), at(2, "16:00"))
    assert len(busy) == len(booked_queries)


def test_booking_never_reads_the_visits_note(booked_queries):
    """A new visit has no note; the audit diff used to look for one."""
    assert not [q for q in booked_queries if q.startswith('SELECT "treatments_sessionnote"')]


def test_booking_reads_each_row_once(booked_queries):
    """The plan once (locked), no re-read of the new visit for the response,
    no separate role, rules, reminder or waitlist look-ups."""
    selects = [q for q in booked_queries if q.lstrip("(").startswith("SELECT")]
    assert len([q for q in selects if 'FROM "treatments_treatmentplan"' in q.split(" WHERE ")[0]]) == 1
    assert not [q for q in selects if q.startswith('SELECT "appointments_appointment"."id", ')]
    for table in ("auth_group", "clinic_clinicrules", "appointments_reminder", "appointments_waitlistentry"):
        assert not [q for q in selects if q.startswith(f'SELECT "{table}"')], table
