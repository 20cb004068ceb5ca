"""The patient's own changes from the email: moving the visit
(/r/<token>/reschedule/) and the reminder opt-out with its undo
(/r/unsubscribe/<token>/). Requests in; the database and the page out."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments import links, services
from appointments.models import Appointment, AppointmentChange, Reminder
from appointments.reminders.tokens import make_optout_token, make_token
from clinic.dashboard import front_desk_dashboard
from clinic.rule_codes import RuleCode, codes_of
from patients.models import Patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(plan, therapist, room, device, at):
    return services.appointment_book(plan=plan, start=at(3, "10:00"), therapist=therapist)


def reschedule_url(appointment):
    return reverse("links:reschedule", args=[make_token(appointment, "reschedule")])


def choices(appointment):
    return links.reschedule_choices(appointment, now=timezone.now())


# -- moving the visit ---------------------------------------------------------------
def test_the_page_lists_free_times_outside_the_late_window_and_moves_the_visit(client, visit, at):
    response = client.get(reschedule_url(visit))
    assert response.status_code == 200
    body = response.content.decode()
    offered = choices(visit)
    assert offered and all(
        dt.datetime.fromisoformat(v.split("|")[0]) >= timezone.now() + dt.timedelta(hours=24)
        for v, _, _ in offered
    )
    assert all(dt.datetime.fromisoformat(v.split("|")[0]) != visit.start for v, _, _ in offered)
    assert 'name="slot"' in body and "<legend" in body
    value = offered[len(offered) // 2][0]
    new_start = dt.datetime.fromisoformat(value.split("|")[0])
    response = client.post(reschedule_url(visit), {"slot": value})
    assert response.status_code == 302
    assert "is moved to" in client.get(response.url).content.decode()
    visit.refresh_from_db()
    assert visit.start == new_start and visit.status == Appointment.Status.SCHEDULED
    change = AppointmentChange.objects.get(appointment=visit, action="rescheduled")
    assert change.by_patient and change.old_start == at(3, "10:00")
    # The patient gets a notice of the new time; the old slot's reminder is void.
    # (the confirmation was never sent here, so it is a confirmation of the new time)
    assert Reminder.objects.filter(appointment=visit, slot_start=new_start, kind="confirmation").exists()
    assert (
        Reminder.objects.get(appointment=visit, slot_start=at(3, "10:00"), kind="reminder").status == "void"
    )


def test_the_front_desk_sees_what_the_patient_did(client, visit, at, front_desk):
    value = choices(visit)[0][0]
    assert client.post(reschedule_url(visit), {"slot": value}).status_code == 302
    board = front_desk_dashboard()
    assert [c.appointment_id for c in board["patient_changes"]] == [visit.pk]
    staff = Client()
    staff.force_login(front_desk)
    page = staff.get(reverse("home")).content.decode()
    assert "Changed by patients" in page and visit.patient.full_name in page


def test_the_dashboard_list_runs_a_fixed_number_of_queries(
    visit, plan, therapist, at, django_assert_max_num_queries
):
    from treatments.tests.factories import PlanFactory

    for day in (7, 8, 9):
        other = PlanFactory(patient=plan.patient)
        appointment = services.appointment_book(plan=other, start=at(day, "10:00"), therapist=therapist)
        services.appointment_cancel(appointment=appointment, reason="x", by_patient=True)
    from clinic.dashboard import patient_changes

    with django_assert_max_num_queries(1):
        rows = patient_changes(now=timezone.now())
        assert len([r.appointment.patient.pk for r in rows]) == 3


def test_a_time_inside_the_late_window_is_refused_by_the_service_with_its_code(visit, at):
    with pytest.raises(Exception) as info:
        services.appointment_reschedule_by_patient(
            appointment=visit, start=timezone.now() + dt.timedelta(hours=2), therapist=visit.therapist
        )
    assert codes_of(info.value) == [RuleCode.R12_PATIENT_WINDOW]
    visit.refresh_from_db()
    assert visit.start == at(3, "10:00")


def test_a_visit_inside_the_late_window_cannot_be_moved_online(client, visit, at):
    with time_machine.travel(visit.start - dt.timedelta(hours=5)):
        response = client.get(reschedule_url(visit))
        assert response.status_code == 200
        assert "can no longer be moved online" in response.content.decode()
        assert 'name="slot"' not in response.content.decode()
        refused = client.post(
            reschedule_url(visit), {"slot": f"{at(4, '11:00').isoformat()}|{visit.therapist_id}"}
        )
    assert refused.status_code == 409
    visit.refresh_from_db()
    assert visit.start == at(3, "10:00")


def test_a_time_not_offered_re_renders_with_an_error_and_moves_nothing(client, visit, at):
    response = client.post(
        reschedule_url(visit), {"slot": f"{at(3, '03:00').isoformat()}|{visit.therapist_id}"}
    )
    assert response.status_code == 400
    assert "no longer free" in response.content.decode()
    response = client.post(reschedule_url(visit), {})
    assert response.status_code == 400 and "Choose one of the times." in response.content.decode()
    visit.refresh_from_db()
    assert visit.start == at(3, "10:00")
    assert not AppointmentChange.objects.filter(appointment=visit, action="rescheduled").exists()


def test_a_plan_on_hold_cannot_be_moved_online(client, visit, therapist_user):
    from treatments.services import plan_hold

    plan_hold(plan=visit.plan, user=therapist_user, reason="Skin review")
    response = client.get(reschedule_url(visit))
    assert "can no longer be moved online" in response.content.decode()


def test_a_tampered_or_other_purpose_token_is_refused(client, visit):
    token = make_token(visit, "reschedule")
    assert client.get(reverse("links:reschedule", args=[token[:-2] + "xx"])).status_code == 400
    assert client.get(reverse("links:reschedule", args=[make_token(visit, "cancel")])).status_code == 400


# -- the opt-out and its undo -------------------------------------------------------------
def test_the_opt_out_page_stops_reminders_and_can_undo_it(client, visit):
    target = reverse("links:unsubscribe", args=[make_optout_token(visit.patient_id)])
    page = client.get(target)
    assert page.status_code == 200 and "Stop email reminders" in page.content.decode()
    assert Patient.objects.get(pk=visit.patient_id).reminder_opt_in is True  # a GET changes nothing
    done = client.post(target, {"action": "stop"})
    assert done.status_code == 302
    assert "we will not email you reminders" in client.get(done.url).content.decode()
    assert Patient.objects.get(pk=visit.patient_id).reminder_opt_in is False
    back = client.post(target, {"action": "resume"})
    assert "Email reminders are on again" in client.get(back.url).content.decode()
    assert Patient.objects.get(pk=visit.patient_id).reminder_opt_in is True


def test_the_one_click_post_needs_no_csrf_token(visit):
    strict = Client(enforce_csrf_checks=True)
    target = reverse("links:unsubscribe", args=[make_optout_token(visit.patient_id)])
    response = strict.post(
        target, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert Patient.objects.get(pk=visit.patient_id).reminder_opt_in is False


def test_a_tampered_opt_out_token_changes_nothing(client, visit):
    token = make_optout_token(visit.patient_id)
    other = token.replace(str(visit.patient_id), str(visit.patient_id + 1), 1)
    response = client.post(reverse("links:unsubscribe", args=[other]), {"action": "stop"})
    assert response.status_code == 400
    assert Patient.objects.get(pk=visit.patient_id).reminder_opt_in is True
