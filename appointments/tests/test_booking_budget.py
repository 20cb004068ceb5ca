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

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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


# -- through the login page, as the browser signs in ------------------------------
@pytest.fixture
def browser(front_desk):
    """A front desk signed in through the login page with CSRF checks on, as
    bench/http_server.py does over HTTP: axes, the idle clock's start and
    the session's first save all happened."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("login"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    signed_in = client.post(
        reverse("login"),
        {"username": front_desk.username, "password": settings.DEMO_PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert signed_in.status_code == 302, signed_in.content[:300]
    return client


def _book_from_browser(browser, therapist, plan, start):
    return browser.post(
        "/api/v1/appointments/",
        {"plan": plan.pk, "start": start.isoformat(), "therapist": therapist.pk},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=browser.cookies[settings.CSRF_COOKIE_NAME].value,
    )


def test_booking_from_a_signed_in_browser_stays_within_the_budget(
    browser, therapist, room, device, at, django_assert_max_num_queries
):
    """Every middleware (request id, session, CSRF, authentication, login
    required, idle timeout, audit, axes) and the view: no more than the
    budget. The first booking makes the clinic-rules row and fills the
    process's content-type cache (a once-per-worker read)."""
    assert _book_from_browser(browser, therapist, _plan(), at(4, "08:00")).status_code == 201
    plan = _plan()
    with django_assert_max_num_queries(BOOKING_BUDGET):
        response = _book_from_browser(browser, therapist, plan, at(3, "08:00"))
    assert response.status_code == 201, response.content[:300]


def test_the_idle_clocks_minute_write_is_one_statement(browser, therapist, room, device, at, time_machine):
    """Once a minute a request also saves the session's last activity
    (clinic.middleware.IdleTimeoutMiddleware): one UPDATE, not a transaction
    of its own around it (clinic.sessions)."""
    _book_from_browser(browser, therapist, _plan(), at(4, "08:00"))
    plan = _plan()
    time_machine.move_to(dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=2))
    with CaptureQueriesContext(connection) as captured:
        response = _book_from_browser(browser, therapist, plan, at(3, "08:00"))
    assert response.status_code == 201, response.content[:300]
    queries = [q["sql"] for q in captured.captured_queries]
    assert len([q for q in queries if "django_session" in q]) == 2, queries  # read, then the one write
    assert len(queries) <= BOOKING_BUDGET + 1, "\n".join(q[:120] for q in queries)


def test_a_session_deleted_meanwhile_is_not_saved_again(browser):
    """As with Django's own store: an update that finds its row gone (the
    user logged out in another tab while this request ran) raises, and the
    session is not written back."""
    from django.contrib.sessions.models import Session

    store = browser.session
    store["last_activity"] = 0  # read while the session still existed
    Session.objects.all().delete()
    with pytest.raises(UpdateError):
        store.save()
    assert not Session.objects.exists()
