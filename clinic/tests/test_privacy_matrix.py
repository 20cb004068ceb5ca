"""The field-level privacy matrix: the permission matrix's every page and API
endpoint, read as the front desk, carries no clinical field and none of the
clinical text this test writes into the database.

Two independent checks, so neither leans on the declaration it tests
(treatments.access.PLAN_FIELDS):

- CLINICAL_FIELDS, the one list of a plan's clinical field names: none is a
  key of any JSON object the front desk receives;
- MARKERS, strings written into the indication, the prescriber, the override
  and status reasons, the note, the addendum, the adverse event and the
  screening details: none appears in any body the front desk receives (API
  JSON, pages, CSV, calendar feed, emails, admin).

The therapist's run of the same walk shows the markers are really there
(the test is not vacuous)."""

from __future__ import annotations

import json
import re

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from clinic.tests.test_permissions import (
    _Clock,
    _expected,
    _fill,
    _path_for,
    _request,
    _routes_with_rows,
)
from clinic.tests.world import World, build_world
from notes.models import Addendum, AdverseEvent, SessionNote
from patients.models import Screening
from supplies.tests.factories import add_supplies
from treatments.models import TreatmentPlan
from treatments.rules import ALL_PARAMETERS

# A plan's clinical fields: whatever the plan's serializer may add, none of
# these reaches a role outside CLINICAL. Kept here, apart from the
# declaration in treatments/access.py, so a field moved there is caught.
CLINICAL_FIELDS = frozenset(
    {
        "indication",
        "icd10_code",
        "medication",
        "prescriber",
        "prescription_date",
        "override_reason",
        "override_by",
        "override_at",
        "status_reason",
        "adverse_events",
        *ALL_PARAMETERS,
    }
)
# Note content (the API's note fields); the note is never the front desk's.
NOTE_FIELDS = frozenset({"subjective", "objective", "assessment", "care_plan", "skin_notes", "addenda"})

MARKERS = {
    "indication": "Zyxindication-lateral-epicondylitis",
    "prescriber": "Zyxprescriber-Dr-Quill",
    "override": "Zyxoverride-cardiologist-cleared",
    "status": "Zyxstatus-reason-burn-review",
    "subjective": "Zyxsubjective-elbow",
    "assessment": "Zyxassessment-improving",
    "skin_notes": "Zyxskin-notes-redness",
    "addendum": "Zyxaddendum-called-patient",
    "adverse": "Zyxadverse-burn-description",
    "action": "Zyxadverse-action-taken",
    "allergy": "Zyxallergy-sulfites",
}


def _mark(world: World) -> None:
    """Clinical text in every clinical column the world has."""
    TreatmentPlan.objects.filter(pk=world.plan.pk).update(
        indication=MARKERS["indication"],
        icd10_code="M77.1",
        prescriber=MARKERS["prescriber"],
        override_reason=MARKERS["override"],
        override_at=world.appointment.start,
        override_by=world.users["therapist"],
        status_reason=MARKERS["status"],
    )
    SessionNote.objects.filter(pk=world.note.pk).update(
        subjective=MARKERS["subjective"], assessment=MARKERS["assessment"], skin_notes=MARKERS["skin_notes"]
    )
    Addendum.objects.filter(pk=world.addendum.pk).update(text=MARKERS["addendum"])
    AdverseEvent.objects.create(
        note=world.note,
        plan=world.plan,
        patient=world.patient,
        kind=AdverseEvent.Kind.BURN,
        description=MARKERS["adverse"],
        action_taken=MARKERS["action"],
        reported_by=world.users["therapist"],
    )
    Screening.objects.filter(pk=world.screening.pk).update(drug_allergy_details=MARKERS["allergy"])


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    clock = _Clock()
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world(clock)
        add_supplies(world)  # the supplies pages and API are walked too
        _mark(world)
        yield world
        transaction.set_rollback(True)
    clock.stop()


def _keys(value, *, plan: bool = False) -> set[str]:
    """The keys of JSON objects: every object's for note content; only a
    plan's (an object with `sessions_prescribed`) for a plan's clinical
    fields, since the medication catalog rightly has a `polarity` too."""
    if isinstance(value, dict):
        is_plan = "sessions_prescribed" in value
        own = set(value) & NOTE_FIELDS | (set(value) & CLINICAL_FIELDS if is_plan or plan else set())
        return own | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v, plan=plan)}
    return set()


def leaks(body: bytes, content_type: str) -> list[str]:
    """What of the clinical record a body gives away: markers, and clinical
    field names as JSON keys."""
    text = body.decode(errors="replace")
    found = [name for name, marker in MARKERS.items() if marker in text]
    if content_type.startswith("application/json") and text:
        found += sorted(_keys(json.loads(text)))
    return found


def _get_paths(world: World) -> list[tuple[str, str]]:
    """(route key, path) for every URL the matrix reads with GET."""
    paths = []
    for route in _routes_with_rows():
        expected, admin_label = _expected(route)
        if expected is None or "GET" not in expected.cells or admin_label:
            continue
        target = expected.target
        if isinstance(target, dict):
            target = {k: _fill(str(v), world) for k, v in target.items()}
        path = _path_for(route, target, world)
        if expected.query:
            path += "?" + _fill(expected.query, world)
        paths.append((route.key, path))
    # Lists and filters the matrix opens without a query, and the feed with its token.
    paths += [
        ("plans filtered", f"/api/v1/plans/?patient={world.patient.pk}"),
        ("appointments of the plan", f"/api/v1/appointments/?plan={world.plan.pk}"),
        ("day sheet", f"/schedule/day/?date={world.appointment.start.date()}"),
        ("patient search", f"/patients/?q={world.patient.last_name}"),
        ("events", "/schedule/events/?start=2020-01-01&end=2040-01-01"),
    ]
    return paths


@pytest.mark.django_db
def test_the_front_desk_never_receives_clinical_fields_or_text(world: World):
    walked, leaked = 0, {}
    for key, path in _get_paths(world):
        response = _request("front_desk", "GET", path, world)
        body = response.content if not response.streaming else b"".join(response.streaming_content)
        found = leaks(body, response.get("Content-Type", ""))
        walked += response.status_code == 200
        if found:
            leaked[f"{key} {path}"] = found
    assert not leaked, leaked
    assert walked > 40  # the front desk really read pages and lists


@pytest.mark.django_db
def test_the_walk_is_not_vacuous_a_therapist_sees_the_markers(world: World):
    seen: set[str] = set()
    for _key, path in _get_paths(world):
        response = _request("therapist", "GET", path, world)
        seen |= set(leaks(response.content, response.get("Content-Type", "")))
    seen |= set(leaks(_request("therapist", "GET", f"/plans/{world.plan.pk}/", world).content, "text/html"))
    seen |= set(
        leaks(
            _request("therapist", "GET", f"/schedule/{world.appointment.pk}/note/", world).content,
            "text/html",
        )
    )
    assert {"indication", "override", "adverse", "subjective", "addendum"} <= seen, seen
    assert {"indication", "override_reason", "status_reason", "dose_ma_min"} <= seen, seen


@pytest.mark.django_db
def test_the_front_desks_plan_api_carries_logistics_only(world: World):
    api = APIClient()
    api.force_authenticate(world.users["front_desk"])
    plan = api.get(f"/api/v1/plans/{world.plan.pk}/").json()
    assert set(plan) & CLINICAL_FIELDS == set()
    assert {"id", "patient", "modality", "status", "phase", "counts", "sessions_prescribed"} <= set(plan)
    listed = api.get("/api/v1/plans/").json()["results"]
    assert listed and all(not set(p) & CLINICAL_FIELDS for p in listed)
    api.force_authenticate(world.users["therapist"])
    full = api.get(f"/api/v1/plans/{world.plan.pk}/").json()
    assert full["indication"] == MARKERS["indication"] and full["override_reason"] == MARKERS["override"]


@pytest.mark.django_db
def test_the_matrix_fails_if_a_clinical_field_is_given_to_the_front_desk(world: World, monkeypatch):
    """The acceptance check: declaring `indication` the front desk's in
    treatments.access (the serializer follows it) makes the matrix fail."""
    from treatments.access import PLAN_FIELDS

    path = f"/api/v1/plans/{world.plan.pk}/"
    response = _request("front_desk", "GET", path, world)
    assert leaks(response.content, response["Content-Type"]) == []
    monkeypatch.setattr(PLAN_FIELDS, "shared", PLAN_FIELDS.shared | {"indication"})
    response = _request("front_desk", "GET", path, world)
    assert leaks(response.content, response["Content-Type"]) == ["indication", "indication"]


@pytest.mark.django_db
def test_the_front_desks_plan_page_lists_no_adverse_event(world: World):
    page = _request("front_desk", "GET", f"/plans/{world.plan.pk}/", world).content.decode()
    # "Burn" as a word: the staff names in the header are random (Faker) and can be "Burns".
    assert "Adverse events" not in page and not re.search(r"\bBurn\b", page)
    assert MARKERS["adverse"] not in page
    assert (
        "Adverse events" in _request("therapist", "GET", f"/plans/{world.plan.pk}/", world).content.decode()
    )


@pytest.mark.django_db
def test_the_calendar_feed_and_the_emails_carry_no_clinical_text(world: World):
    from django.test import Client

    from appointments.reminders.content import build_message

    feed = Client().get("/api/v1/calendar.ics", {"token": world.therapist.calendar_token})
    assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.content
    assert leaks(feed.content, "text/calendar") == []
    message = build_message(world.reminder)
    parts = [message.body.encode(), *(alt[0].encode() for alt in message.alternatives)]
    parts += [a[1] if isinstance(a[1], bytes) else str(a[1]).encode() for a in message.attachments]
    assert all(leaks(part, "text/plain") == [] for part in parts)
