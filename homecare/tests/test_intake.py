"""Intake before the first visit: the confirmation of a patient's first visit
(or an evaluation) carries an optional link; the answers arrive as a proposed
screening that a therapist accepts or corrects (R6 and R20 unchanged)."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from appointments import reminders
from appointments import services as scheduling
from appointments.reminders import tokens
from appointments.tests.reminders_support import assert_no_clinical_words, parse
from clinic.localtime import local_datetime
from clinic.tests.factories import UserFactory
from homecare import services
from homecare.models import IntakeResponse
from patients.models import Screening
from patients.screening import ANSWER_FIELDS

pytestmark = pytest.mark.django_db

NO_TO_ALL = {name: "no" for name in ANSWER_FIELDS}


def intake_links() -> list[str]:
    found = []
    for message in mail.outbox:
        found += re.findall(r"https?://[^\s\"'<>]+/r/intake/[^\s\"'<>]+", message.body)
    return [re.sub(r"^https?://[^/]+", "", link) for link in found]


@pytest.fixture
def first_visit(tap_plan, day, time_machine):
    start = local_datetime(day, dt.time(10))
    time_machine.move_to(start - dt.timedelta(days=3), tick=False)
    visit = scheduling.appointment_book(plan=tap_plan, start=start)
    reminders.reminders_sweep()
    return visit


def test_the_first_visits_confirmation_carries_the_intake_link_and_a_later_one_none(
    first_visit, tap_plan, day
):
    (link,) = intake_links()
    assert_no_clinical_words([parse(m.message().as_bytes()) for m in mail.outbox])
    mail.outbox.clear()
    scheduling.appointment_book(plan=tap_plan, start=local_datetime(day + dt.timedelta(days=2), dt.time(10)))
    reminders.reminders_sweep()
    assert mail.outbox and intake_links() == []


def test_one_sweep_batch_judges_each_confirmation_as_of_sending(tap_plan, day, time_machine):
    """Both confirmations go in one batch (the first-visit check is read once
    for the batch): only the earlier visit is the first, though the later one
    was booked first."""
    later = local_datetime(day + dt.timedelta(days=2), dt.time(10))
    earlier = local_datetime(day, dt.time(10))
    time_machine.move_to(earlier - dt.timedelta(days=3), tick=False)
    scheduling.appointment_book(plan=tap_plan, start=later)
    first = scheduling.appointment_book(plan=tap_plan, start=earlier)
    reminders.reminders_sweep()
    assert len(mail.outbox) == 2
    (with_link,) = [m for m in mail.outbox if "/r/intake/" in m.body]
    assert f"{earlier.day} {earlier:%b %Y}" in with_link.subject
    assert intake_links() == [reverse("homelinks:intake", args=[tokens.make_token(first, "intake")])]


def test_an_evaluation_confirmation_carries_it_too(clinic, day, time_machine):
    from patients.tests.factories import PatientFactory

    patient = PatientFactory()
    start = local_datetime(day, dt.time(11))
    time_machine.move_to(start - dt.timedelta(days=2), tick=False)
    scheduling.evaluation_book(patient=patient, start=start, therapist=clinic)
    reminders.reminders_sweep()
    assert len(intake_links()) == 1


def test_the_patient_answers_and_a_therapist_corrects_them_into_the_screening(first_visit, client, therapist):
    (link,) = intake_links()
    page = client.get(link)
    assert page.status_code == 200 and "pacemaker" in page.content.decode()
    # Unanswered questions are refused with the message next to them; input kept.
    refused = client.post(link, {"pacemaker": "no", "comments": "Hands worse in summer"})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "Please answer yes or no." in body and "Hands worse in summer" in body
    # A "yes" to the allergy question needs its details.
    refused = client.post(link, {**NO_TO_ALL, "drug_allergy": "yes"})
    assert "which medicine or ingredient" in refused.content.decode()
    done = client.post(link, {**NO_TO_ALL, "hdss": "3", "comments": "Hands worse in summer"})
    assert done.status_code == 302
    assert "your answers reached the clinic" in client.get(done["Location"]).content.decode()
    assert "Hands worse in summer" in client.get(link).content.decode()  # what was sent, to change it
    client.post(link, {**NO_TO_ALL, "epilepsy": "yes", "hdss": "4"})  # a second send replaces the first
    intake = IntakeResponse.objects.get()
    assert intake.status == IntakeResponse.Status.PROPOSED and intake.answers["epilepsy"] and intake.hdss == 4
    assert not Screening.objects.filter(patient=intake.patient, epilepsy=True).exists()  # only proposed

    client.force_login(therapist)
    chart = client.get(reverse("patients:detail", kwargs={"pk": intake.patient_id})).content.decode()
    assert reverse("homecare:intake_review", kwargs={"pk": intake.pk}) in chart
    review = {name: "" for name in ANSWER_FIELDS} | {"epilepsy": "on", "pregnancy": "on", "action": "accept"}
    response = client.post(reverse("homecare:intake_review", kwargs={"pk": intake.pk}), review)
    assert response.status_code == 302
    intake.refresh_from_db()
    assert intake.status == IntakeResponse.Status.CORRECTED
    screening = intake.screening
    assert (screening.epilepsy, screening.pregnancy, screening.screened_by) == (True, True, therapist)


def test_only_a_therapist_reviews_the_answers(first_visit, client):
    services.intake_submit(appointment=first_visit, answers={n: False for n in ANSWER_FIELDS})
    intake = IntakeResponse.objects.get()
    with pytest.raises(PermissionDenied):
        services.intake_accept(intake=intake, user=UserFactory(role="clinic_admin"), answers={})
    client.force_login(UserFactory(role="front_desk"))
    assert client.get(reverse("homecare:intake_review", kwargs={"pk": intake.pk})).status_code == 403


def test_the_link_closes_when_the_visit_starts(first_visit, client, time_machine):
    (link,) = intake_links()
    time_machine.move_to(first_visit.start, tick=False)
    response = client.get(link)
    assert response.status_code == 403 and "This link is closed" in response.content.decode()
    assert client.get("/r/intake/tampered:abc/").status_code == 400
