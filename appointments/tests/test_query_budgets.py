"""Query budgets of the scheduling pages and API endpoints: the count is
measured with a little data and again with more (more visits, history rows,
waitlist entries, therapists…); it must not move, and it stays under the
budget. The day sheet, calendar feed, appointment list and slot finder have
theirs in test_views.py and test_api.py. The API client here authenticates
without a session (force_authenticate), so its counts exclude the session
and user lookups a browser request adds."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from appointments import services
from appointments.models import Appointment
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from patients.tests.factories import ScreeningFactory
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def _count(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code in (200, 201), (response.status_code, response.content[:300])
    return len(captured.captured_queries)


def assert_bounded(call, grow, budget: int) -> None:
    """Waitlist matches check every booking rule per entry (a Schedule each),
    for at most MATCH_CHECKS entries per slot: bounded, not constant."""
    call()
    few = _count(call)
    grow()
    many = _count(call)
    assert few <= many <= budget, f"{few} then {many} queries > budget {budget}"


def assert_constant(call, grow, budget: int) -> None:
    call()  # first call may make the clinic-rules row: not a per-request cost
    few = _count(call)
    grow()
    many = _count(call)
    assert few == many, f"{few} queries with a little data, {many} with more"
    assert many <= budget, f"{many} queries > budget {budget}"


def _plan():
    plan = PlanFactory()
    ScreeningFactory(patient=plan.patient)
    return plan


def _visits(at, therapist, numbers):
    """Visits of other patients on day 0..1, each its own half hour, room and device."""
    booked = []
    for i in numbers:
        hour, minute = divmod(8 * 60 + 30 * (i % 16), 60)
        booked.append(
            services.appointment_book(
                plan=_plan(),
                start=at(i // 16, f"{hour:02d}:{minute:02d}"),
                therapist=therapist,
                room=RoomFactory(name=f"Budget room {i}"),
                device=DeviceFactory(),
            )
        )
    return booked


@pytest.fixture
def desk(client, front_desk):
    client.force_login(front_desk)
    return client


@pytest.fixture
def api(front_desk):
    client = APIClient()
    client.force_authenticate(front_desk)
    return client


# -- pages -------------------------------------------------------------------------
def test_calendar_page(desk, therapist, room):
    def grow():
        for _ in range(6):
            TherapistFactory()
            RoomFactory()

    assert_constant(lambda: desk.get(reverse("appointments:calendar")), grow, budget=5)


def test_appointment_detail_as_its_history_grows(desk, plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "09:00"), therapist=therapist)
    url = reverse("appointments:detail", args=[appointment.pk])

    def grow():
        for hour in range(10, 16):
            services.appointment_reschedule(appointment=appointment, start=at(0, f"{hour}:00"))

    assert_constant(
        lambda: desk.get(url), grow, budget=9
    )  # + attendance (R12), clinic rules for the late-cancel warning


def test_cancelled_visit_page_with_waitlist_and_next_slot(desk, plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "09:00"), therapist=therapist)
    services.appointment_cancel(appointment=appointment, reason="Ill")
    url = reverse("appointments:detail", args=[appointment.pk])

    def grow():
        for _ in range(6):
            services.waitlist_add(plan=_plan(), preferred_weekdays=[0, 1, 2, 3, 4])
        _visits(at, TherapistFactory(), range(20, 30))

    assert_bounded(lambda: desk.get(url), grow, budget=60)


def test_book_page_slot_search(desk, plan, therapist, room, device, at):
    day = at(0, "00:00").date()
    params = {
        "plan": plan.pk,
        "date_from": day.isoformat(),
        "date_to": (day + dt.timedelta(days=6)).isoformat(),
    }
    assert_constant(
        lambda: desk.get(reverse("appointments:book"), params),
        lambda: _visits(at, TherapistFactory(), range(12)),
        budget=20,  # + the R4 check, the plan's authorizations (R22), attendance and authorization alerts
    )


def test_series_preview_page(desk, plan, therapist, room, device, at):
    url = reverse("appointments:series", args=[plan.pk])
    data = {"start_0": at(0, "09:00").date().isoformat(), "start_1": "09:00", "preview": "1"}
    assert_constant(
        lambda: desk.post(url, data),
        lambda: _visits(at, TherapistFactory(), range(12)),
        budget=17,  # + authorizations (R22)
    )


def test_waitlist_page(desk, at, therapist):
    def grow():
        booked = _visits(at, therapist, range(4))
        for appointment in booked:
            services.appointment_cancel(appointment=appointment, reason="Away")
        for _ in range(6):
            services.waitlist_add(plan=_plan(), preferred_weekdays=[0, 1, 2, 3, 4])

    services.waitlist_add(plan=_plan())
    assert_bounded(lambda: desk.get(reverse("appointments:waitlist")), grow, budget=200)


def test_waitlist_form(desk):
    _plan()
    assert_constant(
        lambda: desk.get(reverse("appointments:waitlist_add")),
        lambda: [_plan() for _ in range(8)],
        budget=4,
    )


# -- API ---------------------------------------------------------------------------
@pytest.mark.parametrize("resource", ["therapists", "rooms", "devices"])
def test_resource_lists(api, resource, therapist, room, device):
    def grow():
        for _ in range(6):
            TherapistFactory()
            RoomFactory()
            DeviceFactory()

    assert_constant(lambda: api.get(f"/api/v1/{resource}/"), grow, budget=2)


def test_appointment_detail_api(api, plan, therapist, room, device, at):
    appointment = services.appointment_book(plan=plan, start=at(0, "09:00"), therapist=therapist)
    assert_constant(
        lambda: api.get(f"/api/v1/appointments/{appointment.pk}/"),
        lambda: _visits(at, TherapistFactory(), range(10)),
        budget=1,
    )


def test_booking_costs_the_same_on_a_busy_day(api, therapist, room, device, at):
    def book(plan, start):
        return lambda: api.post(
            "/api/v1/appointments/",
            {"plan": plan.pk, "start": start.isoformat(), "therapist": therapist.pk},
            format="json",
        )

    book(_plan(), at(4, "08:00"))()  # the first booking makes the clinic-rules row
    quiet = _count(book(_plan(), at(3, "08:00")))
    _visits(at, therapist, range(32, 46))  # day 2 fills up
    busy = _count(book(_plan(), at(2, "16:00")))
    # The plan locked, one read for every rule (R1–R5, R19, R22, the clinic's rules, the waitlist
    # entry), insert, audit entry, history, reminder rows (R13): fixed, however busy the day
    # (26 before issue 19; test_booking_budget.py counts the session's own queries too).
    assert quiet == busy <= 10


def test_actions_cost_a_fixed_number_of_queries(api, therapist, room, device, at):
    def cancel(appointment):
        return lambda: api.post(f"/api/v1/appointments/{appointment.pk}/cancel/", {"reason": "Ill"})

    first, second = _visits(at, therapist, range(2))
    cancel(first)()  # the first cancellation makes the clinic-rules row
    few = _count(cancel(second))
    _visits(at, therapist, range(2, 14))
    many = _count(cancel(Appointment.objects.exclude(status="cancelled").order_by("-pk").first()))
    # Lock, update, history, audit entry, voiding reminders and the cancellation notice.
    assert few == many <= 13


def test_series_preview_api(api, plan, therapist, room, device, at):
    url = f"/api/v1/plans/{plan.pk}/book-series/"
    body = {"start": at(0, "09:00").isoformat(), "preview": True}
    assert_constant(
        lambda: api.post(url, body, format="json"),
        lambda: _visits(at, TherapistFactory(), range(12)),
        budget=14,  # + authorizations (R22)
    )


def test_therapist_calendar_feed(client, therapist, room, device, at):
    url = f"/api/v1/calendar.ics?token={therapist.calendar_token}"
    _visits(at, therapist, range(2))
    assert_constant(lambda: client.get(url), lambda: _visits(at, therapist, range(2, 14)), budget=2)
