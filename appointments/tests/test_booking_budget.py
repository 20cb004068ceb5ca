"""The booking path's query budget (issue 19), as the front desk's browser
calls it: a logged-in session (session, user and role lookups included),
POST /api/v1/appointments/ with plan, start and therapist; every rule
(R1–R5), the insert, its history and audit rows, the outbox rows (R13) and
the response. The count must not grow with the day's bookings or the
clinic's history, and stays within BOOKING_BUDGET. Issue 19's target is 12;
the gap is recorded by the strict xfail below, so reaching it fails that
test and the budget must come down with it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.tests.factories import TherapistFactory
from appointments.tests.test_query_budgets import _plan, _visits

pytestmark = pytest.mark.django_db

# 26 before authorizations: + the plan's authorizations (R22) and the waitlist exit check.
BOOKING_BUDGET = 28
TARGET = 12


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


@pytest.mark.xfail(strict=True, reason="issue 19 target: booking in ≤ 12 queries, not reached yet")
def test_booking_reaches_the_issue_19_target(booked_queries):
    assert len(booked_queries) <= TARGET
