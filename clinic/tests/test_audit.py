"""The audit trail: changes with old and new values, the user and the time;
reads of notes and screenings; nobody edits or deletes an entry."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appointments import services as scheduling
from appointments.tests.conftest import next_weekday
from clinic.localtime import local_datetime
from clinic.tests.factories import UserFactory
from clinic.tests.world import World, build_world
from notes.models import Addendum


@pytest.fixture
def world(db, time_machine) -> World:
    return build_world(time_machine)


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def _entries(obj, action=None):
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk)
    ).order_by("timestamp", "id")
    return entries.filter(action=action) if action is not None else entries


def test_a_plan_dose_change_through_the_api_names_the_token_user_and_both_values(world):
    therapist = world.users["therapist"]
    response = _api(therapist).patch(f"/api/v1/plans/{world.plan.pk}/", {"dose_ma_min": "60"}, format="json")
    assert response.status_code == 200, response.json()
    entry = _entries(world.plan, LogEntry.Action.UPDATE).last()
    assert entry.actor == therapist  # resolved after DRF's token authentication
    assert entry.timestamp is not None
    old, new = entry.changes_dict["dose_ma_min"]
    assert (float(old), float(new)) == (40, 60)


def test_an_appointment_moved_on_the_page_shows_old_and_new_start(client, world, time_machine):
    front_desk = world.users["front_desk"]
    # A second visit to move: the world's one is already completed.
    later = local_datetime(next_weekday(3, after=world.appointment.start.date()), dt.time(10))
    visit = scheduling.appointment_book(plan=world.plan, start=later)
    new_start = later + dt.timedelta(hours=2)
    client.force_login(front_desk)
    local = new_start.astimezone(later.tzinfo)
    response = client.post(
        reverse("appointments:reschedule", args=[visit.pk]),
        {"start_0": local.strftime("%Y-%m-%d"), "start_1": local.strftime("%H:%M")},
    )
    assert response.status_code == 302
    entry = _entries(visit, LogEntry.Action.UPDATE).last()
    assert entry.actor == front_desk
    old, new = entry.changes_dict["start"]
    # auditlog writes datetimes as UTC without an offset
    assert dt.datetime.fromisoformat(old).replace(tzinfo=dt.UTC) == later
    assert dt.datetime.fromisoformat(new).replace(tzinfo=dt.UTC) == new_start


def test_an_addendum_to_a_signed_note_is_in_the_visits_history(client, world):
    therapist = world.users["therapist"]
    url = f"/api/v1/appointments/{world.appointment.pk}/note/addenda/"
    response = _api(therapist).post(url, {"text": "Patient reports mild redness next day."}, format="json")
    assert response.status_code == 201
    addendum = Addendum.objects.get(pk=response.json()["id"])
    entry = _entries(addendum, LogEntry.Action.CREATE).get()
    assert entry.actor == therapist
    assert entry.changes_dict["text"][1] == "Patient reports mild redness next day."
    # The visit's audit page in the admin takes in its note and addenda.
    client.force_login(world.users["clinic_admin"])
    page = client.get(reverse("admin:appointments_appointment_auditlog", args=[world.appointment.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Patient reports mild redness next day." in body
    assert "th" in body  # the author's username
    assert "signed" in body  # the note's signing is there too (status draft → signed)


def test_reading_a_note_or_a_screening_is_logged(client, world):
    therapist = world.users["therapist"]
    client.force_login(therapist)
    assert client.get(reverse("notes:note", args=[world.appointment.pk])).status_code == 200
    assert _api(therapist).get(f"/api/v1/patients/{world.patient.pk}/screening/").status_code == 200
    assert client.get(reverse("patients:screening_history", args=[world.patient.pk])).status_code == 200
    note_reads = _entries(world.note, LogEntry.Action.ACCESS)
    assert [e.actor for e in note_reads] == [therapist]
    screening_reads = _entries(world.screening, LogEntry.Action.ACCESS)
    assert [e.actor for e in screening_reads] == [therapist, therapist]


def test_the_front_desk_chart_reads_no_screening_answers(client, world):
    client.force_login(world.users["front_desk"])
    assert client.get(reverse("patients:detail", args=[world.patient.pk])).status_code == 200
    assert not _entries(world.screening, LogEntry.Action.ACCESS).exists()


def test_clinic_admins_browse_entries_but_nobody_changes_or_deletes_one(client, world):
    entry = _entries(world.note).first()
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    for user in (world.users["clinic_admin"], superuser):
        client.force_login(user)
        assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 200
        assert client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk])).status_code == 200
        change = client.post(reverse("admin:auditlog_logentry_change", args=[entry.pk]), {"action": 3})
        assert change.status_code == 403
        delete = client.post(reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"})
        assert delete.status_code == 403
        bulk = client.post(
            reverse("admin:auditlog_logentry_changelist"),
            {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
        )
        assert bulk.status_code in (200, 302)
    assert LogEntry.objects.filter(pk=entry.pk, action=entry.action).exists()
    client.force_login(world.users["therapist"])
    assert client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 302  # admin login


def test_a_record_history_page_escapes_what_users_typed(client, world):
    from notes import services as notes

    notes.addendum_add(
        appointment=world.appointment, user=world.users["therapist"], text="<script>x()</script>"
    )
    client.force_login(world.users["clinic_admin"])
    body = client.get(reverse("admin:appointments_appointment_auditlog", args=[world.appointment.pk])).content
    assert b"<script>x()</script>" not in body
    assert b"&lt;script&gt;" in body
