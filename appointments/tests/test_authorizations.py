"""R22: insurance authorizations — services, booking (one visit, series,
reschedule), alerts, API and pages."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from appointments import services
from appointments.models import Appointment
from clinic.exceptions import SchedulingConflict
from clinic.localtime import local_date
from clinic.rule_codes import RuleCode, codes_of
from patients.models import Payer
from treatments import services as plans
from treatments.authorizations import authorization_create, authorization_update
from treatments.models import Authorization
from treatments.selectors import authorization_alerts, authorizations_with_use

pytestmark = pytest.mark.django_db


@pytest.fixture
def payer(db):
    return Payer.objects.create(name="Synthetic Mutual")


def authorize(plan, payer, first: dt.date, last: dt.date, visits: int = 6, number: str = "SM-1"):
    return authorization_create(
        plan=plan,
        data={
            "payer": payer,
            "number": number,
            "visits_authorized": visits,
            "valid_from": first,
            "valid_to": last,
        },
    )


def test_booking_outside_every_authorization_is_refused_with_r22_none(
    plan, payer, therapist, device, at, monday
):
    authorize(plan, payer, monday, monday + dt.timedelta(days=6))
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    with pytest.raises(ValidationError) as caught:
        services.appointment_book(plan=plan, start=at(7, "10:00"), therapist=therapist)
    assert codes_of(caught.value) == [RuleCode.R22_NONE]
    assert Appointment.objects.count() == 1


def test_booking_counts_against_the_authorization_valid_on_the_visit_date(
    plan, payer, therapist, device, at, monday
):
    authorize(plan, payer, monday, monday + dt.timedelta(days=6), visits=1, number="A")
    authorize(
        plan, payer, monday + dt.timedelta(days=7), monday + dt.timedelta(days=30), visits=2, number="B"
    )
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    with pytest.raises(ValidationError) as caught:
        services.appointment_book(plan=plan, start=at(3, "10:00"), therapist=therapist)
    assert codes_of(caught.value) == [RuleCode.R22_USED]
    assert "Authorization A" in caught.value.messages[0]
    # The next week's visit draws on B, which still has visits.
    services.appointment_book(plan=plan, start=at(7, "10:00"), therapist=therapist)
    used = {a.number: a.visits_used for a in authorizations_with_use(plan.authorizations.all())}
    assert used == {"A": 1, "B": 1}


def test_series_checks_each_occurrence_against_its_date(plan, payer, therapist, device, at, monday):
    # 6 visits authorized, but only for the first week: two fit (2 a week).
    authorize(plan, payer, monday, monday + dt.timedelta(days=6), visits=6)
    with pytest.raises(SchedulingConflict) as caught:
        services.series_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    failed = caught.value.conflicts
    assert len(failed) == 4 and all(RuleCode.R22_NONE in c["codes"] for c in failed)
    assert Appointment.objects.count() == 0


def test_reschedule_out_of_the_authorized_period_is_refused(plan, payer, therapist, device, at, monday):
    authorize(plan, payer, monday, monday + dt.timedelta(days=6))
    visit = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    with pytest.raises(ValidationError) as caught:
        services.appointment_reschedule(appointment=visit, start=at(8, "10:00"))
    assert RuleCode.R22_NONE in codes_of(caught.value)
    visit.refresh_from_db()
    assert local_date(visit.start) == monday


def test_slot_finder_offers_only_authorized_dates(plan, payer, therapist, device, monday):
    from appointments.selectors import slots_free

    authorize(plan, payer, monday, monday)
    days = {
        local_date(s.start)
        for s in slots_free(plan=plan, date_from=monday, date_to=monday + dt.timedelta(days=3))
    }
    assert days == {monday}


def test_overlapping_periods_are_refused(plan, payer, monday):
    authorize(plan, payer, monday, monday + dt.timedelta(days=10))
    with pytest.raises(ValidationError) as caught:
        authorize(plan, payer, monday + dt.timedelta(days=10), monday + dt.timedelta(days=20), number="X")
    assert codes_of(caught.value) == [RuleCode.R22_OVERLAP]
    assert plan.authorizations.count() == 1


def test_shrinking_below_the_visits_booked_is_refused_and_nothing_changes(
    plan, payer, therapist, device, at, monday
):
    auth = authorize(plan, payer, monday, monday + dt.timedelta(days=20), visits=3)
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    services.appointment_book(plan=plan, start=at(3, "10:00"), therapist=therapist)
    with pytest.raises(ValidationError) as caught:
        authorization_update(authorization=auth, data={"visits_authorized": 1})
    assert codes_of(caught.value) == [RuleCode.R22_USED]
    auth.refresh_from_db()
    assert auth.visits_authorized == 3


def test_the_plan_total_follows_its_authorizations(plan, payer, monday):
    authorize(plan, payer, monday, monday + dt.timedelta(days=6), visits=2, number="A")
    authorize(
        plan, payer, monday + dt.timedelta(days=7), monday + dt.timedelta(days=30), visits=4, number="B"
    )
    plan.refresh_from_db()
    assert plan.sessions_authorized == 6
    with pytest.raises(ValidationError) as caught:
        plans.plan_update(plan=plan, user=None, data={"sessions_authorized": 9})
    assert "sessions_authorized" in caught.value.message_dict


def test_writing_sessions_authorized_keeps_working(plan, therapist, device, at, therapist_user):
    plans.plan_update(plan=plan, user=therapist_user, data={"sessions_authorized": 1})
    [auth] = plan.authorizations.all()
    assert auth.visits_authorized == 1
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    with pytest.raises(ValidationError) as caught:
        services.appointment_book(plan=plan, start=at(3, "10:00"), therapist=therapist)
    assert RuleCode.R4_COUNT in codes_of(caught.value)
    plans.plan_update(plan=plan, user=therapist_user, data={"sessions_authorized": 3})
    auth.refresh_from_db()
    assert auth.visits_authorized == 3
    services.appointment_book(plan=plan, start=at(3, "10:00"), therapist=therapist)


def test_alerts_at_two_visits_left_and_seven_days_before_expiry(plan, payer, therapist, device, at, monday):
    today = monday - dt.timedelta(days=1)
    authorize(plan, payer, today, today + dt.timedelta(days=30), visits=3)
    assert authorization_alerts([plan.pk], today=today) == {}
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    [alert] = authorization_alerts([plan.pk], today=today)[plan.pk]
    assert "2 of 3 visits left" in alert.message
    late = authorization_alerts([plan.pk], today=today + dt.timedelta(days=23))[plan.pk]
    assert any("expires in 7 days" in a.message for a in late)
    # A renewal already recorded silences the expiry alert.
    authorize(plan, payer, today + dt.timedelta(days=31), today + dt.timedelta(days=90), visits=6, number="R")
    late = authorization_alerts([plan.pk], today=today + dt.timedelta(days=23))[plan.pk]
    assert not any("expires" in a.message for a in late)


def test_data_migration_turns_sessions_authorized_into_a_first_authorization(plan):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("treatments.migrations.0008_authorizations_from_sessions_authorized")
    type(plan).objects.filter(pk=plan.pk).update(sessions_authorized=4)
    migration.forwards(apps, None)
    [auth] = plan.authorizations.all()
    assert auth.visits_authorized == 4 and auth.valid_from <= local_date(plan.created_at)
    assert auth.payer.name == "Payer not recorded"
    migration.forwards(apps, None)  # idempotent
    assert plan.authorizations.count() == 1


# -- API -------------------------------------------------------------------------
def test_front_desk_records_an_authorization_through_the_api(plan, payer, front_desk, monday):
    client = APIClient()
    client.force_authenticate(front_desk)
    body = {
        "plan": plan.pk,
        "payer": payer.pk,
        "number": "SM-77",
        "visits_authorized": 6,
        "valid_from": monday.isoformat(),
        "valid_to": (monday + dt.timedelta(days=30)).isoformat(),
    }
    response = client.post("/api/v1/authorizations/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["visits_used"] == 0 and data["visits_left"] == 6
    bad = client.post("/api/v1/authorizations/", {**body, "number": "X"}, format="json")
    assert bad.status_code == 400 and bad.json()["codes"] == ["R22.overlap"]
    backwards = client.patch(
        f"/api/v1/authorizations/{data['id']}/",
        {"valid_to": (monday - dt.timedelta(days=1)).isoformat()},
        format="json",
    )
    assert backwards.status_code == 400 and "valid_to" in backwards.json()
    listed = client.get("/api/v1/authorizations/", {"plan": plan.pk}).json()
    assert listed["count"] == 1


def test_booking_api_answers_400_with_the_r22_code(plan, payer, front_desk, therapist, device, at, monday):
    authorize(plan, payer, monday, monday)
    client = APIClient()
    client.force_authenticate(front_desk)
    response = client.post(
        "/api/v1/appointments/", {"plan": plan.pk, "start": at(2, "10:00").isoformat()}, format="json"
    )
    assert response.status_code == 400 and "R22.none" in response.json()["codes"]


# -- pages -----------------------------------------------------------------------
def test_front_desk_adds_an_authorization_from_the_plan_page(client, plan, payer, front_desk, monday):
    client.force_login(front_desk)
    page = client.get(reverse("treatments:detail", kwargs={"pk": plan.pk})).content.decode()
    add_url = reverse("treatments:authorization_create", kwargs={"pk": plan.pk})
    assert add_url in page
    form = {
        "payer": payer.pk,
        "number": "SM-9",
        "visits_authorized": 4,
        "valid_from": monday.isoformat(),
        "valid_to": (monday - dt.timedelta(days=2)).isoformat(),
    }
    bad = client.post(add_url, form)
    assert bad.status_code == 200 and 'value="SM-9"' in bad.content.decode()
    assert not Authorization.objects.exists()
    form["valid_to"] = (monday + dt.timedelta(days=30)).isoformat()
    assert client.post(add_url, form).status_code == 302
    auth = Authorization.objects.get()
    page = client.get(reverse("treatments:detail", kwargs={"pk": plan.pk})).content.decode()
    assert "SM-9" in page and reverse("treatments:authorization_edit", kwargs={"pk": auth.pk}) in page
    edit = client.post(
        reverse("treatments:authorization_edit", kwargs={"pk": auth.pk}), {**form, "visits_authorized": 8}
    )
    assert edit.status_code == 302
    auth.refresh_from_db()
    assert auth.visits_authorized == 8


def test_plan_page_shows_the_authorization_alert(
    client, plan, payer, front_desk, therapist, device, at, monday
):
    today = dt.date.today()
    authorize(plan, payer, today, today + dt.timedelta(days=3), visits=6)
    client.force_login(front_desk)
    page = client.get(reverse("treatments:detail", kwargs={"pk": plan.pk})).content.decode()
    assert "expires in 3 days" in page and "Record a new authorization" in page


def test_slot_finder_and_booking_agree_on_r5_and_r22_day_by_day(plan, payer, therapist, device, at, monday):
    """The slot finder asks R22 and R5's weekly count once a day (yes/no);
    the booking asks plan_problems at the exact time. Over two weeks with
    an authorization ending mid-week-two and a full first week, each day
    the finder offers is one the booking takes, and each it leaves out is
    one the booking refuses, for the reason the rule gives."""
    from appointments.availability import Schedule
    from appointments.selectors import slots_free

    plan.frequency_per_week = 2
    plan.save(update_fields=["frequency_per_week"])
    authorize(plan, payer, monday, monday + dt.timedelta(days=9), visits=6)
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    services.appointment_book(plan=plan, start=at(2, "10:00"), therapist=therapist)
    last = monday + dt.timedelta(days=13)
    offered = {local_date(s.start) for s in slots_free(plan=plan, date_from=monday, date_to=last, limit=None)}
    schedule = Schedule(plan=plan, date_from=monday, date_to=last)
    for offset in range(14):
        day = monday + dt.timedelta(days=offset)
        if not schedule.available_windows(therapist.id, day):
            continue  # not a working day
        codes = codes_of_problems(schedule.plan_problems(at(offset, "15:00")))
        assert (day in offered) == (not codes), (day, codes)
        if offset < 7:
            assert RuleCode.R5_WEEK in codes  # the first week is full
        elif offset > 9:
            assert codes == [RuleCode.R22_NONE]  # past the authorization
    assert offered and min(offered) >= monday + dt.timedelta(days=7)


def codes_of_problems(problems) -> list[str]:
    return [p.code for p in problems]
