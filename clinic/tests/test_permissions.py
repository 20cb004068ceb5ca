"""The permission matrix: every page and API endpoint × every role.

The rows come from the urlconf, so a URL added without a row here fails
(`test_every_url_has_a_row`). Each cell is what that role gets:

- an HTTP status (200, 403, 405, …), or a set of them when the answer
  depends on input (an empty POST to an action a role may do: 400 or 404,
  never 403);
- LOGIN / ADMIN_LOGIN: a redirect to the login page (anonymous visitors,
  and staff pages for users who are not staff).

Pages are requested with GET; POST-only actions (and API actions) with an
empty POST, so the wrong role gets 403 and an allowed one a 4xx about the
input. Every request runs in a savepoint that is rolled back, so one role's
request never changes what the next one sees. Paths under /r/ (the patient's
signed links, their token is the credential) follow one rule instead of a
row: a bad token gets a friendly 4xx with no patient data, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import time_machine
from django.contrib import admin
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from clinic.tests.world import World, build_world
from supplies.tests.factories import add_supplies

ROLES = ("anonymous", "front_desk", "therapist", "clinic_admin")
LOGIN = "login"
ADMIN_LOGIN = "admin-login"
INPUT = frozenset({400, 404, 409})  # an allowed role's empty POST: refused for its input, not its role
SIGNED_LINK_PREFIX = "r/"


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the route itself for unnamed patterns
    route: str
    pattern: URLPattern


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            route = prefix + str(entry.pattern)
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(key=name or route, route=route, pattern=entry)


def all_routes() -> list[Route]:
    return sorted({r.key: r for r in _walk(get_resolver().url_patterns)}.values(), key=lambda r: r.key)


# -- the objects a path points at --------------------------------------------------
def _admin_objects(world: World) -> dict[str, object]:
    """One row of each model the admin shows, so change pages open a real record."""
    from auditlog.models import LogEntry
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token, TokenProxy

    from appointments.models import ClinicClosure, TherapistException

    day = world.appointment.start.date()
    Token.objects.get_or_create(user=world.users["front_desk"])
    objects = {
        "auth.group": Group.objects.get(name="therapist"),
        "auth.user": world.users["front_desk"],
        "authtoken.tokenproxy": TokenProxy.objects.first(),
        "patients.patient": world.patient,
        "patients.screening": world.screening,
        "treatments.medication": world.medication,
        "patients.payer": world.payer,
        "treatments.treatmentplan": world.plan,
        "treatments.authorization": world.authorization,
        "clinic.clinicrules": world.rules,
        "appointments.therapist": world.therapist,
        "appointments.room": world.room,
        "appointments.device": world.device,
        "appointments.clinicclosure": ClinicClosure.objects.create(
            start_date=day + _days(60), end_date=day + _days(61), reason="Inventory"
        ),
        "appointments.therapistexception": TherapistException.objects.create(
            therapist=world.therapist,
            kind=TherapistException.Kind.values[0],
            start=world.appointment.start + _days(30),
            end=world.appointment.end + _days(30),
        ),
        "appointments.appointment": world.appointment,
        "appointments.waitlistentry": world.waitlist,
        "appointments.reminder": world.reminder,
        "auditlog.logentry": LogEntry.objects.first(),
        "axes.accessattempt": AccessAttempt.objects.create(username="nobody", failures_since_start=1),
        "axes.accesslog": AccessLog.objects.create(username="fd"),
        "axes.accessfailurelog": AccessFailureLog.objects.create(username="nobody"),
        "supplies.supplyitem": world.supply_item,
        "supplies.lot": world.lot,
        "supplies.stockmovement": world.movement,
        "supplies.feeschedule": world.fee,
        "supplies.expireduseattempt": world.expired_attempt,
        "supplies.supplysettings": world.supply_settings,
    }
    return {label: obj for label, obj in objects.items()}


def _days(n: int):
    import datetime as dt

    return dt.timedelta(days=n)


OBJECT_PARAMS = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _path_for(route: Route, target, world: World) -> str:
    """A concrete path: each parameter takes the target object's id (or the
    value given in a dict target)."""

    def value(name: str) -> str:
        if isinstance(target, dict):
            return str(target[name])
        if target is None:
            return "1"
        obj = getattr(world, target) if isinstance(target, str) else target
        return str(obj.pk)

    path = OBJECT_PARAMS.sub(lambda m: value(m.group(1) or m.group(2)), route.route)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    return "/" + path


def _client(role: str, world: World, *, api: bool):
    client = APIClient() if api else Client()
    if role == "anonymous":
        return client
    user = world.users[role]
    if api:
        from rest_framework.authtoken.models import Token

        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    else:
        client.force_login(user)
    return client


def _request(role: str, method: str, path: str, world: World):
    """One cell: the request in a savepoint rolled back afterwards."""
    api = path.startswith("/api/")
    client = _client(role, world, api=api)
    with transaction.atomic():
        if method == "GET":
            response = client.get(path)
        elif api:
            response = client.post(path, {}, format="json")
        else:
            response = client.post(path, {})
        transaction.set_rollback(True)
    return response


def _outcome(response) -> int | str:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
    return response.status_code


# -- the table ---------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    target: str | dict | None  # the World attribute whose id fills the path, or the values
    query: str
    cells: dict  # method → (anonymous, front_desk, therapist, clinic_admin)


def row(target: str | dict | None = None, query: str = "", **cells) -> Row:
    return Row(target=target, query=query, cells=cells)


STAFF = (LOGIN, 200, 200, 200)  # every role
CLINICAL = (LOGIN, 403, 200, 200)  # therapists (and clinic admins, who may do everything)
ADMIN_ONLY = (LOGIN, 403, 403, 200)
API_STAFF = (401, 200, 200, 200)
API_CLINICAL = (401, 403, 200, 200)
API_ADMIN = (401, 403, 403, 200)

MATRIX: dict[str, Row] = {
    # -- the project
    "home": row(GET=STAFF),
    "healthz": row(GET=(200, 200, 200, 200)),
    "favicon": row(GET=(200, 200, 200, 200)),
    "metrics": row(GET=(404, 404, 404, 404)),  # a bearer token, not a role (off in tests: no token)
    "login": row(GET=(200, 302, 302, 302)),  # a signed-in user goes home
    "logout": row(POST=(LOGIN, LOGIN, LOGIN, LOGIN)),
    "keepalive": row(POST=(LOGIN, 204, 204, 204), GET=(LOGIN, 405, 405, 405)),
    # -- patients: demographics for every role, screening answers clinical
    "patients:list": row(GET=STAFF),
    "patients:create": row(GET=STAFF),
    "patients:detail": row("patient", GET=STAFF),
    "patients:edit": row("patient", GET=STAFF),
    "patients:merge": row("patient", GET=ADMIN_ONLY),
    "patients:screening": row("patient", GET=CLINICAL),
    "patients:screening_history": row("patient", GET=CLINICAL),
    # -- plans: everyone reads (booking needs them), therapists write
    "treatments:list": row(GET=STAFF),
    "treatments:detail": row("plan", GET=STAFF),
    "treatments:create": row("patient", GET=CLINICAL),
    "treatments:edit": row("plan", GET=CLINICAL),
    # -- authorizations (R22): the front desk handles insurance
    "treatments:authorization_create": row("plan", GET=STAFF),
    "treatments:authorization_edit": row("authorization", GET=STAFF),
    "treatments:activate": row("plan", GET=CLINICAL),
    "treatments:hold": row("plan", GET=CLINICAL),
    "treatments:resume": row("plan", GET=CLINICAL),
    "treatments:complete": row("plan", GET=CLINICAL),
    "treatments:cancel": row("plan", GET=CLINICAL),
    "treatments:maintenance": row("plan", GET=(LOGIN, 403, 200, 403)),  # R20, R21: therapists
    "notes:progress": row("plan", GET=CLINICAL),  # session parameters and pain: clinical
    "notes:billing": row(GET=ADMIN_ONLY),
    "treatments:medications": row(GET=STAFF),
    "treatments:medication_create": row(GET=ADMIN_ONLY),
    "treatments:medication_edit": row("medication", GET=ADMIN_ONLY),
    "treatments:medication_deactivate": row("medication", POST=(LOGIN, 403, 403, 302)),
    # -- scheduling: front desk and therapists; the note is clinical
    "appointments:calendar": row(GET=STAFF),
    "appointments:events": row(query="start=2030-01-06&end=2030-01-13", GET=STAFF),
    "appointments:resources": row(GET=STAFF),
    "appointments:day": row(GET=STAFF),
    "appointments:book": row(query="plan={plan}", GET=STAFF),
    "appointments:evaluation_book": row(query="patient={patient}", GET=STAFF),
    "appointments:new_visit": row(query="start=2030-01-07T10:00:00-05:00&q=a", GET=STAFF),
    "appointments:series": row("plan", GET=STAFF),
    "appointments:detail": row("appointment", GET=STAFF),
    "appointments:cancel": row("appointment", POST=(LOGIN, 400, 400, 400)),
    "appointments:reschedule": row("appointment", POST=(LOGIN, 400, 400, 400)),
    "appointments:move": row("appointment", POST=(LOGIN, 400, 400, 400)),
    # the visit is completed: the action is refused with a message, back to the visit
    "appointments:check_in": row("appointment", POST=(LOGIN, 302, 302, 302)),
    "appointments:no_show": row("appointment", POST=(LOGIN, 302, 302, 302)),
    "notes:note": row("appointment", GET=CLINICAL),
    # R20: clinical acts need the therapist group; a clinic admin who treats holds both
    "notes:sign": row("appointment", POST=(LOGIN, 403, 400, 403)),
    "notes:addendum": row("appointment", POST=(LOGIN, 403, 400, 403)),
    "appointments:messages": row("appointment", GET=STAFF),
    "appointments:patient_messages": row("patient", GET=STAFF),
    "appointments:message_resend": row("reminder", POST=(LOGIN, 302, 403, 302)),
    "appointments:calendar_feed_rotate": row(POST=(LOGIN, 403, 302, 404), GET=(LOGIN, 405, 405, 405)),
    "appointments:waitlist": row(GET=STAFF),
    "appointments:waitlist_add": row(GET=STAFF),
    "appointments:waitlist_remove": row("waitlist", POST=(LOGIN, 302, 302, 302)),
    "appointments:waitlist_offer": row(
        "waitlist", POST=(LOGIN, 302, 302, 302)
    ),  # no slot: back with a message
    # -- the home program (homecare): clinical pages; the world's plan is not
    # tap water (its page sends the user back to the plan) and has no program
    "homecare:program": row("plan", GET=(LOGIN, 403, 302, 302)),
    "homecare:rotate_link": row("plan", POST=(LOGIN, 403, 404, 404)),
    "homecare:revoke_link": row("plan", POST=(LOGIN, 403, 404, 404)),
    "homecare:review": row("plan", POST=(LOGIN, 403, 404, 404)),
    "homecare:end": row("plan", POST=(LOGIN, 403, 404, 404)),
    "homecare:intake_review": row({"pk": "999999"}, GET=(LOGIN, 403, 404, 404)),
    # -- API: 401 without a token; the same roles as the pages
    "api:api-root": row(GET=API_STAFF),
    "api:schema": row(GET=API_STAFF),
    "api:docs": row(GET=API_STAFF),
    "api:token": row(POST=(400, 400, 400, 400)),  # public: the empty body is refused
    "api:calendar-feed": row(GET=(403, 403, 403, 403)),  # its token is the credential; none given
    # the therapist's own feed; a clinic admin who is not a therapist has none
    "api:my-calendar-feed": row(GET=(401, 403, 200, 404), POST=(401, 403, 200, 404)),
    "api:user-list": row(GET=API_ADMIN, POST=(401, 403, 403, 400)),
    "api:user-detail": row({"pk": "{users[front_desk]}"}, GET=API_ADMIN),
    "api:patient-list": row(GET=API_STAFF, POST=(401, 400, 400, 400)),
    "api:patient-detail": row("patient", GET=API_STAFF),
    "api:patient-screening": row("patient", GET=API_CLINICAL),
    "api:patient-merge": row("patient", POST=(401, 403, 403, 400)),
    "api:medication-list": row(GET=API_STAFF, POST=(401, 403, 403, 400)),
    "api:medication-detail": row("medication", GET=API_STAFF),
    "api:medication-deactivate": row("medication", POST=(401, 403, 403, 200)),
    "api:payer-list": row(GET=API_STAFF, POST=(401, 403, 403, 400)),
    "api:payer-detail": row("payer", GET=API_STAFF),
    "api:authorization-list": row(GET=API_STAFF, POST=(401, 400, 400, 400)),
    "api:authorization-detail": row("authorization", GET=API_STAFF),
    "api:plan-list": row(GET=API_STAFF, POST=(401, 403, 400, 400)),
    "api:plan-detail": row("plan", GET=API_STAFF),
    # the plan is active: activate and resume are refused for the plan's state, the rest go
    "api:plan-activate": row("plan", POST=(401, 403, 400, 400)),
    "api:plan-resume": row("plan", POST=(401, 403, 400, 400)),
    "api:plan-hold": row("plan", POST=(401, 403, 200, 200)),
    "api:plan-complete": row("plan", POST=(401, 403, 200, 200)),
    "api:plan-cancel": row("plan", POST=(401, 403, 200, 200)),
    "api:plan-maintenance": row("plan", POST=(401, 403, 400, 403)),  # R21: therapists (R20)
    "api:plan-book-series": row("plan", POST=(401, 400, 400, 400)),
    "api:slots": row(query="plan={plan}&date_from=2030-01-07&date_to=2030-01-08", GET=API_STAFF),
    "api:therapist-list": row(GET=API_STAFF, POST=(401, 403, 403, 400)),
    "api:therapist-detail": row("therapist", GET=API_STAFF),
    "api:room-list": row(GET=API_STAFF, POST=(401, 403, 403, 400)),
    "api:room-detail": row("room", GET=API_STAFF),
    "api:device-list": row(GET=API_STAFF, POST=(401, 403, 403, 400)),
    "api:device-detail": row("device", GET=API_STAFF),
    "api:appointment-list": row(GET=API_STAFF, POST=(401, 400, 400, 400)),
    "api:appointment-detail": row("appointment", GET=API_STAFF),
    "api:appointment-cancel": row("appointment", POST=(401, 400, 400, 400)),
    "api:appointment-reschedule": row("appointment", POST=(401, 400, 400, 400)),
    "api:appointment-check-in": row("appointment", POST=(401, 400, 400, 400)),  # completed visit
    "api:appointment-no-show": row("appointment", POST=(401, 400, 400, 400)),
    "api:appointment-note": row("appointment", GET=API_CLINICAL),
    "api:waitlist-list": row(GET=API_STAFF, POST=(401, 400, 400, 400)),
    "api:waitlist-detail": row("waitlist", GET=API_STAFF),
    "api:waitlist-matches": row("waitlist", GET=API_STAFF),
    "api:reminder-list": row(GET=API_STAFF),
    "api:reminder-detail": row("reminder", GET=API_STAFF),
    "api:reminder-resend": row("reminder", POST=(401, 400, 403, 400)),  # completed visit: nothing to resend
    "api:appointment-note-sign": row("appointment", POST=(401, 403, 400, 403)),  # R20
    "api:appointment-note-addenda": row("appointment", POST=(401, 403, 400, 403)),  # R20
    # -- supplies: therapists handle stock; costs, catalog and fees are for clinic admins
    "supplies:list": row(GET=CLINICAL),
    "supplies:receive": row(GET=CLINICAL),
    "supplies:lot": row("lot", GET=CLINICAL),
    "supplies:correct": row("lot", POST=(LOGIN, 403, 400, 400)),
    "supplies:item_create": row(GET=ADMIN_ONLY),
    "supplies:fees": row(GET=ADMIN_ONLY),
    "supplies:economics": row(query="month=2030-01", GET=ADMIN_ONLY),
    "api:supply-item-list": row(GET=API_CLINICAL, POST=(401, 403, 403, 400)),
    "api:supply-item-detail": row("supply_item", GET=API_CLINICAL),
    "api:lot-list": row(GET=API_CLINICAL, POST=(401, 403, 400, 400)),
    "api:lot-detail": row("lot", GET=API_CLINICAL),
    "api:stock-movement-list": row(GET=API_CLINICAL),
    "api:stock-movement-detail": row("movement", GET=API_CLINICAL),
    "api:fee-schedule-list": row(GET=API_ADMIN, POST=(401, 403, 403, 400)),
    "api:fee-schedule-detail": row("fee", GET=API_ADMIN),
    "api:session-economics": row(query="month=2030-01", GET=API_ADMIN),
    # -- the admin site itself (model pages: ADMIN_MODELS below)
    "admin:index": row(GET=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200)),
    "admin:login": row(GET=(200, 200, 200, 302)),
    "admin:logout": row(POST=(ADMIN_LOGIN, 302, 302, LOGIN)),
    "admin:password_change": row(GET=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200)),
    "admin:password_change_done": row(GET=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200)),
    "admin:jsi18n": row(GET=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200)),
    "admin:autocomplete": row(GET=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 403)),
    "admin:app_list": row({"app_label": "patients"}, GET=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 200)),
    "admin:view_on_site": row(
        {"content_type_id": 1, "object_id": 1}, GET=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404)
    ),
    "admin/(?P<url>.*)$": row({"url": "nowhere/"}, GET=(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, 404)),
}

# The admin's pages per model, for a clinic admin; nobody else gets past the
# admin login. Read-only models answer 403 to add/delete.
OPEN = {"changelist": 200, "add": 200, "change": 200, "delete": 200, "history": 200}
READ_ONLY = {"changelist": 200, "add": 403, "change": 200, "delete": 403, "history": 200}
CLOSED = {"changelist": 403, "add": 403, "change": 403, "delete": 403, "history": 403}
ADMIN_MODELS: dict[str, dict[str, int]] = {
    "patients.patient": {**READ_ONLY, "auditlog": 200},  # edits demographics, never adds or deletes
    "patients.screening": {**READ_ONLY, "auditlog": 200},
    "treatments.medication": {**OPEN, "delete": 403, "auditlog": 200},  # a plan uses it: never deleted
    "treatments.treatmentplan": {**READ_ONLY, "auditlog": 200},
    "treatments.authorization": {**READ_ONLY, "auditlog": 200},  # R22's checks run on the plan page
    "patients.payer": {**OPEN, "delete": 403, "auditlog": 200},  # authorizations point at it
    "appointments.appointment": {**READ_ONLY, "auditlog": 200},
    "appointments.reminder": READ_ONLY,  # the outbox changes only through the services
    "clinic.clinicrules": {**READ_ONLY, "changelist": 302},  # one row: the list opens it
    "auditlog.logentry": READ_ONLY,  # the audit trail: nobody edits or deletes it
    "axes.accessattempt": {**READ_ONLY, "delete": 200},  # deleting unlocks the username
    "axes.accesslog": READ_ONLY,
    "axes.accessfailurelog": READ_ONLY,
    # Django permissions, not the role: superusers only (see the report's open points)
    "auth.user": {**CLOSED, "password_change": 403},
    "auth.group": CLOSED,
    "authtoken.tokenproxy": CLOSED,
    # Resources: clinic admins manage them (the role, not Django permissions)
    "appointments.therapist": OPEN,
    "appointments.room": OPEN,
    "appointments.device": OPEN,
    "appointments.clinicclosure": OPEN,
    "appointments.therapistexception": OPEN,
    "appointments.waitlistentry": OPEN,
    # Supplies: stock moves only through the services (receiving, notes, corrections)
    "supplies.supplyitem": {**OPEN, "delete": 403},  # lots point at it: deactivated, never deleted
    "supplies.lot": READ_ONLY,
    "supplies.stockmovement": READ_ONLY,
    "supplies.expireduseattempt": READ_ONLY,
    "supplies.feeschedule": {**OPEN, "delete": 403},  # past sessions are priced with it
    "supplies.supplysettings": {**READ_ONLY, "changelist": 302},  # one row: the list opens it
}
ADMIN_VIEW = re.compile(r"^admin:(?P<app>[a-z]+)_(?P<model>[a-z]+)_(?P<view>[a-z_]+)$")
ADMIN_REDIRECT = re.compile(r"^admin/(?P<app>[a-z]+)/(?P<model>[a-z]+)/<path:object_id>/$")


def _admin_cells(route: Route) -> tuple[str | None, dict] | None:
    """(model label, {method: cells}) for a ModelAdmin URL, else None."""
    match = ADMIN_VIEW.match(route.key) or ADMIN_REDIRECT.match(route.key)
    if match is None:
        return None
    label = f"{match['app']}.{match['model']}"
    view = match.groupdict().get("view") or "redirect"
    expected = ADMIN_MODELS.get(label, {})
    # /admin/app/model/<id>/ redirects to its change page
    ca = (302 if label in ADMIN_MODELS else None) if view == "redirect" else expected.get(view)
    if ca is None:
        return label, {}
    return label, {"GET": (LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ca)}


def _expected(route: Route) -> tuple[Row | None, str | None]:
    """The route's row, and the admin model it is about (if any)."""
    if route.key in MATRIX:
        return MATRIX[route.key], None
    admin_cells = _admin_cells(route)
    if admin_cells and admin_cells[1]:
        label, cells = admin_cells
        return Row(target=label, query="", cells=cells), label
    return None, None


def _routes_with_rows():
    return [r for r in all_routes() if not r.route.startswith(SIGNED_LINK_PREFIX)]


# -- the tests -------------------------------------------------------------------
def test_every_url_has_a_row():
    missing = [r.key for r in _routes_with_rows() if _expected(r)[0] is None]
    assert not missing, (
        "These URLs have no row in the permission matrix (clinic/tests/test_permissions.py): "
        f"add the expected status for each role to MATRIX (or ADMIN_MODELS): {missing}"
    )


def test_the_matrix_names_only_urls_that_exist():
    keys = {r.key for r in all_routes()}
    assert not set(MATRIX) - keys, set(MATRIX) - keys
    labels = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    assert set(ADMIN_MODELS) == labels, set(ADMIN_MODELS) ^ labels


class _Clock:
    """time-machine for a module-scoped fixture (its own fixture is per test)."""

    def __init__(self):
        self._travel = None

    def move_to(self, destination, tick: bool = True) -> None:
        self.stop()
        self._travel = time_machine.travel(destination, tick=tick)
        self._travel.start()

    def stop(self) -> None:
        if self._travel is not None:
            self._travel.stop()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the whole matrix (building it per URL doubled the suite's
    time): made in a transaction that is rolled back after the module; each
    test, and each request in it, runs in a savepoint inside it."""
    clock = _Clock()
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world(clock)
        add_supplies(world)
        yield world
        transaction.set_rollback(True)
    clock.stop()


def _fill(value: str, world: World) -> str:
    return value.format(
        plan=world.plan.pk, patient=world.patient.pk, users={k: u.pk for k, u in world.users.items()}
    )


@pytest.mark.django_db
@pytest.mark.parametrize("route", _routes_with_rows(), ids=lambda r: r.key)
def test_permission_matrix(route: Route, world: World):
    expected, admin_label = _expected(route)
    assert expected is not None, f"no row for {route.key}"
    target = expected.target
    if admin_label:
        target = _admin_objects(world)[admin_label]
    elif isinstance(target, dict):
        target = {k: _fill(str(v), world) for k, v in target.items()}
    path = _path_for(route, target, world)
    if expected.query:
        path += "?" + _fill(expected.query, world)
    got = {
        method: tuple(_outcome(_request(role, method, path, world)) for role in ROLES)
        for method in expected.cells
    }
    want = {method: tuple(cells) for method, cells in expected.cells.items()}
    assert got == want, f"{route.key} {path}: roles {ROLES}"


@pytest.mark.django_db
def test_signed_links_refuse_a_bad_token_without_data(world: World):
    """Paths under /r/ (the patient's confirm/cancel links) are public by
    token: a made-up token gets a friendly 4xx page with no patient data, for
    every role, never a 500 or a login redirect."""
    links = [r for r in all_routes() if r.route.startswith(SIGNED_LINK_PREFIX)]
    secrets = [world.patient.last_name, world.patient.email, world.patient.mrn]
    for route in links:
        path = OBJECT_PARAMS.sub("not-a-valid-token", route.route)
        for role in ROLES:
            for method in ("GET", "POST"):
                response = _request(role, method, "/" + path, world)
                assert response.status_code in {400, 403, 404, 405, 410, 429}, (route.key, role, method)
                body = response.content.decode(errors="replace")
                assert not any(secret in body for secret in secrets), (route.key, role, method)
