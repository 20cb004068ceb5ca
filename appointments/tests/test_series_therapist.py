"""Series: a named therapist is binding (409 naming each occurrence); without
one, one therapist wherever possible, then the fewest changes; the preview
says why a session moved and how many prescribed sessions lie beyond the
authorization."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from appointments import services
from appointments.models import Appointment, ClinicClosure, TherapistException
from appointments.tests.factories import DeviceFactory, TherapistFactory
from clinic.exceptions import SchedulingConflict
from clinic.localtime import local_datetime

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(front_desk):
    client = APIClient()
    client.force_authenticate(front_desk)
    return client


@pytest.fixture
def two(db, room, device):
    """Priya and Tess both give every modality, Monday–Friday 08:00–17:00;
    a second device so both could work at once."""
    DeviceFactory(name="Ionto B", home_room=room)
    return TherapistFactory(display_name="Priya"), TherapistFactory(display_name="Tess")


def _away(therapist, day: dt.date):
    TherapistException.objects.create(
        therapist=therapist,
        kind=TherapistException.Kind.LEAVE,
        start=local_datetime(day, dt.time(0)),
        end=local_datetime(day + dt.timedelta(days=1), dt.time(0)),
    )


def test_without_a_therapist_the_series_keeps_one_therapist(plan, two, at):
    booked = services.series_book(plan=plan, start=at(0, "10:00"))
    assert len(booked) == plan.sessions_prescribed
    assert len({a.therapist_id for a in booked}) == 1


def test_one_therapist_who_is_free_for_all_wins_over_the_first_alphabetically(plan, two, at, monday):
    priya, tess = two
    _away(priya, monday + dt.timedelta(days=7))  # Priya misses one session of the series
    preview = services.series_preview(plan=plan, start=at(0, "10:00"))
    assert preview.ok
    assert {o.therapist for o in preview.occurrences} == {tess}
    assert f"Every session is with {tess}." in preview.notes


def test_when_nobody_is_free_for_all_the_series_changes_therapist_as_little_as_possible(
    plan, two, at, monday
):
    priya, tess = two
    preview = services.series_preview(plan=plan, start=at(0, "10:00"))
    days = [o.start.date() for o in preview.occurrences]
    # Priya misses the second session, Tess the fifth: one change is enough.
    _away(priya, days[1])
    _away(tess, days[4])
    preview = services.series_preview(plan=plan, start=at(0, "10:00"))
    assert preview.ok
    names = [o.therapist for o in preview.occurrences]
    changes = sum(1 for a, b in zip(names, names[1:], strict=False) if a != b)
    assert changes == 1, names
    assert sum(1 for o in preview.occurrences if o.therapist_note) >= 1


def test_a_named_therapist_is_binding_and_the_409_names_each_occurrence(api, plan, two, at, monday):
    priya, tess = two
    dates = [o.start.date() for o in services.series_preview(plan=plan, start=at(0, "10:00")).occurrences]
    _away(tess, dates[1])
    _away(tess, dates[3])
    preview = services.series_preview(plan=plan, start=at(0, "10:00"), therapist=tess)
    assert not preview.ok
    assert [o.number for o in preview.failures] == [2, 4]
    assert all(o.therapist is None or o.therapist == tess for o in preview.occurrences)
    response = api.post(
        f"/api/v1/plans/{plan.pk}/book-series/",
        {"start": at(0, "10:00").isoformat(), "therapist": tess.pk},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert [c["session_number"] for c in body["conflicts"]] == [2, 4]
    assert [c["date"] for c in body["conflicts"]] == [dates[1].isoformat(), dates[3].isoformat()]
    assert all("Tess is away" in c["reason"] for c in body["conflicts"])
    assert not Appointment.objects.exists()


def test_a_named_therapist_free_for_all_books_every_session_with_them(api, plan, two, at):
    priya, tess = two
    response = api.post(
        f"/api/v1/plans/{plan.pk}/book-series/",
        {"start": at(0, "10:00").isoformat(), "therapist": tess.pk},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert {row["therapist"] for row in response.json()} == {tess.pk}


def test_preview_says_why_a_session_moved(plan, two, at, monday):
    ClinicClosure.objects.create(start_date=monday, end_date=monday, reason="Christmas Day")
    preview = services.series_preview(plan=plan, start=at(0, "10:00"))
    first = preview.occurrences[0]
    assert first.start.date() == monday + dt.timedelta(days=1)
    assert "Moved from" in first.moved and "Christmas Day" in first.moved
    assert preview.occurrences[-1].moved == "" or "Moved from" in preview.occurrences[-1].moved


def test_preview_says_how_many_prescribed_sessions_lie_beyond_the_authorization(api, plan, two, at):
    plan.sessions_prescribed, plan.sessions_authorized = 6, 4
    plan.save()
    preview = services.series_preview(plan=plan, start=at(0, "10:00"))
    assert len(preview.occurrences) == 4
    assert preview.beyond_authorization == 2
    assert any("2 of 6 prescribed sessions lie beyond the authorization" in n for n in preview.notes)
    response = api.post(
        f"/api/v1/plans/{plan.pk}/book-series/",
        {"start": at(0, "10:00").isoformat(), "preview": True},
        format="json",
    )
    assert response.status_code == 200
    assert len(response.json()) == 4 and {"moved", "therapist_note"} <= set(response.json()[0])


def test_binding_therapist_conflict_through_the_service_books_nothing(plan, two, at):
    priya, tess = two
    dates = [o.start.date() for o in services.series_preview(plan=plan, start=at(0, "10:00")).occurrences]
    _away(priya, dates[0])
    with pytest.raises(SchedulingConflict) as info:
        services.series_book(plan=plan, start=at(0, "10:00"), therapist=priya)
    assert [c["session_number"] for c in info.value.conflicts] == [1]
    assert not Appointment.objects.exists()
