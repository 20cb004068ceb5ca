"""Pages: the evaluation booking desk, the chart's evaluations and the plan
written from one, the calendar's resources, background and colours, the day
sheet's warnings, and refusals shown next to the field and in a summary."""

import datetime as dt

import pytest
from django.urls import reverse

from appointments import services
from appointments.models import Appointment, AppointmentChange, ClinicClosure
from appointments.tests.factories import TherapistFactory
from appointments.views import THERAPIST_COLOURS
from patients.tests.factories import PatientFactory
from treatments.models import TreatmentPlan
from treatments.tests.factories import MedicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_client(client, front_desk):
    client.force_login(front_desk)
    return client


def _contrast(hex_colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (lum + 0.05)


def test_front_desk_books_an_evaluation_from_the_chart(desk_client, therapist, room, at):
    patient = PatientFactory()
    chart = desk_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Book an evaluation" in chart
    url = reverse("appointments:evaluation_book")
    page = desk_client.get(
        url,
        {
            "patient": patient.pk,
            "date_from": at(0, "00:00").date().isoformat(),
            "date_to": at(0, "00:00").date().isoformat(),
        },
    )
    assert page.status_code == 200
    assert "free slot" in page.content.decode()
    response = desk_client.post(
        f"{url}?patient={patient.pk}",
        {"patient": patient.pk, "start_0": at(0, "10:00").date().isoformat(), "start_1": "10:00"},
    )
    visit = Appointment.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == reverse(
        "appointments:detail", args=[visit.pk]
    )
    assert visit.kind == Appointment.Kind.EVALUATION and visit.plan is None
    detail = desk_client.get(response["Location"]).content.decode()
    assert "Evaluation (no plan yet)" in detail


def test_a_refused_evaluation_shows_the_message_by_the_field_and_in_the_summary(
    desk_client, therapist, room, at, monday
):
    ClinicClosure.objects.create(start_date=monday, end_date=monday, reason="Christmas Day")
    patient = PatientFactory()
    url = reverse("appointments:evaluation_book")
    response = desk_client.post(
        f"{url}?patient={patient.pk}",
        {"patient": patient.pk, "start_0": monday.isoformat(), "start_1": "10:00"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    message = f"The clinic is closed on {monday:%a %d %b %Y} (Christmas Day)."
    assert body.count(message) == 2  # in the summary and next to the field
    assert "data-error-summary" in body and 'href="#div_id_start"' in body
    assert f'value="{monday.isoformat()}"' in body  # the input is kept
    assert not Appointment.objects.exists()


def test_therapist_writes_the_plan_from_the_evaluation(client, therapist_user, therapist, room, at):
    patient = PatientFactory()
    visit = services.evaluation_book(patient=patient, start=at(0, "10:00"), therapist=therapist)
    Appointment.objects.filter(pk=visit.pk).update(
        start=visit.start - dt.timedelta(weeks=2), end=visit.end - dt.timedelta(weeks=2)
    )
    client.force_login(therapist_user)
    chart = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    link = f"{reverse('treatments:create', args=[patient.pk])}?evaluation={visit.pk}"
    assert link.replace("&", "&amp;") in chart or link in chart
    from treatments import services as plan_services

    plan = plan_services.plan_create(
        patient=patient,
        user=therapist_user,
        data={
            "modality": "phonophoresis",
            "body_site": "Left shoulder",
            "indication": "Tendinopathy",
            "sessions_prescribed": 6,
            "frequency_per_week": 2,
            "frequency_mhz": 1,
            "intensity_w_cm2": "1.0",
            "duty_cycle_pct": 100,
            "treatment_minutes": 8,
            "medication": MedicationFactory(
                name="Dexamethasone gel", polarity="none", modalities=["phonophoresis"]
            ),
        },
        evaluation=visit.pk,
    )
    visit.refresh_from_db()
    assert visit.resulting_plan == plan and visit.status == Appointment.Status.COMPLETED
    assert visit.plan is None  # still not a session of the plan
    assert AppointmentChange.objects.filter(appointment=visit, action="plan_written").exists()


def test_a_plan_cannot_be_written_from_another_patients_evaluation(therapist_user, therapist, room, at):
    visit = services.evaluation_book(patient=PatientFactory(), start=at(0, "10:00"), therapist=therapist)
    from django.core.exceptions import ValidationError

    from treatments import services as plan_services

    before = TreatmentPlan.objects.count()
    with pytest.raises(ValidationError):
        plan_services.plan_create(
            patient=PatientFactory(),
            user=therapist_user,
            data={
                "modality": "phonophoresis",
                "body_site": "Knee",
                "indication": "Bursitis",
                "sessions_prescribed": 6,
                "frequency_per_week": 2,
                "frequency_mhz": 1,
                "intensity_w_cm2": "1.0",
                "duty_cycle_pct": 100,
                "treatment_minutes": 8,
            },
            evaluation=visit.pk,
        )
    assert TreatmentPlan.objects.count() == before  # the refusal rolled the plan back


def test_resources_list_therapists_with_their_colour(desk_client, therapist):
    other = TherapistFactory(display_name="Aaron")
    rows = desk_client.get(reverse("appointments:resources")).json()
    assert [r["title"] for r in rows] == ["Aaron", "Theo"]
    assert rows[0]["id"] == str(other.pk)
    assert all(r["eventColor"] in THERAPIST_COLOURS for r in rows)


def test_every_therapist_colour_reaches_aa_contrast_with_white_text():
    assert min(_contrast(c) for c in THERAPIST_COLOURS) >= 4.5


def test_events_carry_resource_colour_status_and_evaluations(desk_client, plan, therapist, room, device, at):
    session = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    evaluation = services.evaluation_book(patient=PatientFactory(), start=at(0, "13:00"), therapist=therapist)
    params = {"start": at(0, "00:00").isoformat(), "end": at(1, "00:00").isoformat()}
    events = {e["id"]: e for e in desk_client.get(reverse("appointments:events"), params).json()}
    assert events[session.pk]["resourceId"] == str(therapist.pk)
    assert events[session.pk]["backgroundColor"] in THERAPIST_COLOURS
    assert "ev-status-scheduled" in events[session.pk]["classNames"]
    assert "Evaluation" in events[evaluation.pk]["title"]
    assert events[evaluation.pk]["extendedProps"]["kind"] == "evaluation"


def test_background_shades_non_working_time_and_closures(desk_client, therapist, at, monday):
    ClinicClosure.objects.create(
        start_date=monday + dt.timedelta(days=1),
        end_date=monday + dt.timedelta(days=1),
        reason="Christmas Day",
    )
    params = {"start": at(0, "00:00").isoformat(), "end": at(2, "00:00").isoformat(), "background": "1"}
    events = desk_client.get(reverse("appointments:events"), params).json()
    shading = [e for e in events if e.get("display") == "background"]
    monday_off = [e for e in shading if e["start"].startswith(monday.isoformat())]
    # Monday 08:00–17:00 works: shaded before and after.
    assert [(e["start"][11:16], e["end"][11:16]) for e in monday_off] == [
        ("00:00", "08:00"),
        ("17:00", "00:00"),
    ]
    closed = [e for e in shading if "bg-closed" in e["classNames"]]
    assert closed and closed[0]["title"] == "Closed: Christmas Day"
    assert all(e["resourceId"] == str(therapist.pk) for e in shading)
    without = desk_client.get(
        reverse("appointments:events"), {k: v for k, v in params.items() if k != "background"}
    )
    assert not [e for e in without.json() if e.get("display") == "background"]


def test_day_sheet_shows_evaluations_and_warnings(desk_client, plan, therapist, room, device, at):
    services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    TreatmentPlan.objects.filter(pk=plan.pk).update(status=TreatmentPlan.Status.ON_HOLD)
    services.evaluation_book(patient=PatientFactory(), start=at(0, "13:00"), therapist=therapist)
    body = desk_client.get(
        reverse("appointments:day"), {"date": at(0, "00:00").date().isoformat()}
    ).content.decode()
    assert "Evaluation" in body
    assert '<ul class="warn"><li>Plan on hold: no treatment until a therapist resumes it' in body
    assert "<li>No screening yet" in body  # the evaluation's new patient has none yet


def test_booking_form_is_prefilled_from_the_calendar(desk_client, plan, therapist, room, at):
    start = at(0, "10:15")
    page = desk_client.get(
        reverse("appointments:book"),
        {"plan": plan.pk, "start": start.isoformat(), "therapist": therapist.pk, "room": room.pk},
    ).content.decode()
    assert f'value="{start.date().isoformat()}"' in page and 'value="10:15"' in page
    assert f'<option value="{therapist.pk}" selected' in page
