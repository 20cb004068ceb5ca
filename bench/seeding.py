"""Writes the benchmark clinic (`bench.dataset`) to the database in bulk.

One function per table, in dependency order; `seed_bench` (the management
command) calls `seed`. Appointments are inserted in batches, each batch going
through `BATCH_STEPS`: plans, then appointments, then their history rows.
Session notes (a later issue) join as one more step after `insert_history`:
a function `(batch, fixture, now)` that inserts a note for each completed
session of the batch (every `Row` carries its course, session and the saved
appointment as a `Visit`: id, start, end and status fields).

The batches are plain tuples, written with `insert_rows`: PostgreSQL's COPY
(ids drawn from the table's sequence first), `bulk_create` elsewhere. A large
load on PostgreSQL (at least as many rows as the tables hold) also sets the
big tables' plain b-tree indexes and foreign keys aside and re-creates them,
exactly as they were, once the rows are in (`deferred_indexes`): a sorted
build beats a million random insertions, and a foreign key re-added checks
every row in one join instead of a queued trigger per row at commit. The
exclusion constraints (no double booking) stay in place: their GiST
upkeep is most of PostgreSQL's work, but done row by row it runs on the
second core while Python generates the next batch, and a GiST build after
the load measured slower (4 × 5.5 s at 200k, all of it on one core).

Idempotent: the fixture (therapists, rooms, devices, patients…) is made once;
`seed(appointments=N)` then adds the stream's sessions from where the
database stands up to N. `flush_first=True` first deletes every row the seeder made (and with
`appointments=0` stops there).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from appointments.models import (
    Appointment,
    AppointmentChange,
    ClinicClosure,
    Device,
    Reminder,
    Room,
    Therapist,
    TherapistException,
    WaitlistEntry,
    WorkingHours,
)
from bench import dataset
from bench.dataset import Course, Layout, Session
from clinic.localtime import clinic_tz, local_datetime
from clinic.roles import Role
from patients.models import Patient, Screening
from patients.names import name_key
from treatments.models import Medication, TreatmentPlan

BATCH = 5_000  # sessions per batch (bulk_create splits further to the backend's limit)
INSERT_BATCH = 1_000
DEFER_INDEXES_FROM = 20_000  # appointments added at least, and at least as many as the table holds
Status = Appointment.Status


@dataclass
class Fixture:
    layout: Layout
    therapists: list[int]  # Therapist ids, in layout order
    therapist_users: list[int]
    rooms: list[int]
    devices: list[int]
    patients: list[int]
    medications: list[int]  # in dataset.MEDICATIONS order
    front_desk: int


@dataclass(slots=True)
class Visit:
    """A saved appointment of the stream (no model instance: a million of those is slow)."""

    pk: int
    start: dt.datetime
    end: dt.datetime
    fields: dict  # status_fields(): status and its timestamps, cancel reason…

    @property
    def status(self) -> str:
        return self.fields["status"]


@dataclass(slots=True)
class Row:
    course: Course
    session: Session
    appointment: Visit | None = None


# -- writing rows ------------------------------------------------------------------
def insert_rows(model: type[models.Model], columns: Sequence[str], rows: list[tuple]) -> list[int]:
    """Insert tuples of the given fields (attnames); the others take their
    defaults (auto_now fields: now). Returns the new ids, in row order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        made = model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=INSERT_BATCH
        )
        return [m.pk for m in made]
    meta = model._meta
    stamp = timezone.now()
    names, defaults = [], []
    for f in meta.concrete_fields:
        if f.primary_key or f.attname in columns:
            continue
        stamped = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        value = stamp if stamped else f.get_default()
        names.append(f.column)
        defaults.append(f.get_db_prep_save(value, connection))
    quote = connection.ops.quote_name
    sql = "COPY {} ({}) FROM STDIN".format(
        quote(meta.db_table),
        ", ".join(quote(c) for c in [meta.pk.column] + [meta.get_field(a).column for a in columns] + names),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = sorted(i for (i,) in cursor.fetchall())
    tail = tuple(defaults)
    with connection.connection.cursor() as raw, raw.copy(sql) as copy:
        write = copy.write_row
        for pk, row in zip(ids, rows, strict=True):
            write((pk, *row, *tail))
    return ids


def _table_extras(cursor, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A table's plain indexes (no primary key, unique or exclusion constraint's)
    and its foreign keys, as (name, definition) in PostgreSQL's own words."""
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT x.indisunique"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid"
        " AND k.conrelid = x.indrelid) ORDER BY i.relname",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    return indexes, cursor.fetchall()


@contextmanager
def deferred_indexes(tables: Sequence[type[models.Model]]) -> Iterator[None]:
    """PostgreSQL, inside a transaction: drop the tables' plain indexes and
    foreign keys, and re-create them after the block. A failure anywhere (a
    dangling key when one is re-added) rolls the whole transaction back,
    schema included."""
    quote = connection.ops.quote_name
    saved = []
    with connection.cursor() as cursor:
        # the fixture's deferred key checks, now: ALTER TABLE refuses a table with pending ones
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for model in tables:
            table = model._meta.db_table
            indexes, constraints = _table_extras(cursor, table)
            for name, _ in constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
            saved.append((table, indexes, constraints))
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, indexes, constraints in saved:
            for _, definition in indexes:
                cursor.execute(definition)
            for name, definition in constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


# -- markers: which rows are the seeder's ----------------------------------------
def bench_patients():
    return Patient.objects.filter(mrn__startswith=dataset.MRN_PREFIX)


def bench_users():
    return User.objects.filter(username__startswith=dataset.USERNAME_PREFIX)


def stream_appointments():
    """Appointments of the generated history (not the referrals the benchmarks book)."""
    return Appointment.objects.filter(patient__mrn__startswith=dataset.MRN_PREFIX).exclude(
        plan__indication=dataset.WAITING_INDICATION
    )


def existing_anchor() -> dt.date | None:
    """The anchor is kept as the bench users' date_joined (local midnight)."""
    joined = (
        User.objects.filter(username=dataset.FRONT_DESK_USERNAME)
        .values_list("date_joined", flat=True)
        .first()
    )
    return joined.astimezone(clinic_tz()).date() if joined else None


# -- flush -----------------------------------------------------------------------
def flush() -> None:
    """Delete every row the seeder made (and the benchmarks' bookings of them)."""
    anchor = existing_anchor()
    therapists = Therapist.objects.filter(user__username__startswith=dataset.USERNAME_PREFIX)
    rooms = Room.objects.filter(name__startswith=dataset.ROOM_PREFIX)
    devices = Device.objects.filter(serial_number__startswith=dataset.DEVICE_SERIAL_PREFIX)
    visits = Appointment.objects.filter(
        Q(patient__in=bench_patients())
        | Q(therapist__in=therapists)
        | Q(room__in=rooms)
        | Q(device__in=devices)
    )
    Reminder.objects.filter(Q(appointment__in=visits) | Q(patient__in=bench_patients())).delete()
    visits.delete()
    WaitlistEntry.objects.filter(patient__in=bench_patients()).delete()
    TreatmentPlan.objects.filter(patient__in=bench_patients()).delete()
    Screening.objects.filter(patient__in=bench_patients()).delete()
    bench_patients().delete()
    therapists.delete()
    devices.delete()
    rooms.delete()
    if anchor is not None:
        # the holidays of every era the seeder may have reached
        first = anchor - dt.timedelta(days=dataset.DAYS_BACK + dataset.ERA_DAYS * MAX_ERAS)
        last = anchor + dt.timedelta(days=dataset.DAYS_AHEAD)
        ours = set(dataset.holidays(first, last))
        candidates = ClinicClosure.objects.filter(
            start_date__range=(first, last), reason__in={reason for _, reason in ours}
        ).values_list("pk", "start_date", "end_date", "reason")
        ClinicClosure.objects.filter(
            pk__in=[pk for pk, start, end, reason in candidates if start == end and (start, reason) in ours]
        ).delete()
    bench_users().delete()


MAX_ERAS = 60  # flush looks this far back for closures (1M appointments: 9 eras)


# -- the fixture, one table at a time --------------------------------------------------
def seed_users(layout: Layout) -> tuple[list[int], int]:
    from django.conf import settings

    joined = local_datetime(layout.anchor, dt.time.min)
    password = make_password(settings.DEMO_PASSWORD)  # hashed once: PBKDF2 is slow by design
    users = [
        User(
            username=spec.username,
            first_name=spec.display_name.split()[0],
            last_name=spec.display_name.split(",")[0].split()[-1],
            email=f"{spec.username}@example.invalid",
            password=password,
            date_joined=joined,
        )
        for spec in layout.therapists
    ]
    users.append(
        User(
            username=dataset.FRONT_DESK_USERNAME,
            first_name="Bench",
            last_name="Desk",
            email=f"{dataset.FRONT_DESK_USERNAME}@example.invalid",
            password=password,
            date_joined=joined,
        )
    )
    User.objects.bulk_create(users)
    therapist_group = Group.objects.get_or_create(name=Role.THERAPIST)[0]
    desk_group = Group.objects.get_or_create(name=Role.FRONT_DESK)[0]
    Membership = User.groups.through
    Membership.objects.bulk_create(
        [Membership(user_id=u.pk, group_id=therapist_group.pk) for u in users[:-1]]
        + [Membership(user_id=users[-1].pk, group_id=desk_group.pk)]
    )
    return [u.pk for u in users[:-1]], users[-1].pk


def seed_therapists(layout: Layout, user_ids: list[int]) -> list[int]:
    therapists = Therapist.objects.bulk_create(
        Therapist(user_id=user_id, display_name=spec.display_name, modalities=list(spec.modalities))
        for spec, user_id in zip(layout.therapists, user_ids, strict=True)
    )
    return [t.pk for t in therapists]


def seed_working_hours(layout: Layout, therapist_ids: list[int]) -> None:
    WorkingHours.objects.bulk_create(
        WorkingHours(therapist_id=therapist_id, weekday=weekday, start_time=start, end_time=end)
        for spec, therapist_id in zip(layout.therapists, therapist_ids, strict=True)
        for weekday, blocks in sorted(spec.hours.items())
        for start, end in blocks
    )


def seed_exceptions(layout: Layout, therapist_ids: list[int]) -> None:
    rows = []
    for spec, therapist_id in zip(layout.therapists, therapist_ids, strict=True):
        for first, last in spec.leave:
            rows.append(
                TherapistException(
                    therapist_id=therapist_id,
                    kind=TherapistException.Kind.LEAVE,
                    start=local_datetime(layout.days[first], dt.time.min),
                    end=local_datetime(layout.days[last] + dt.timedelta(days=1), dt.time.min),
                    note="Annual leave",
                )
            )
        for day, cell, count in spec.training:
            start = local_datetime(layout.days[day], dataset.time_of(cell))
            rows.append(
                TherapistException(
                    therapist_id=therapist_id,
                    kind=TherapistException.Kind.TRAINING,
                    start=start,
                    end=start + dt.timedelta(minutes=count * dataset.CELL_MINUTES),
                    note="Continuing education",
                )
            )
    TherapistException.objects.bulk_create(rows)


def seed_rooms(layout: Layout) -> list[int]:
    rooms = Room.objects.bulk_create(Room(name=r.name, modalities=list(r.modalities)) for r in layout.rooms)
    return [r.pk for r in rooms]


def seed_devices(layout: Layout, room_ids: list[int]) -> list[int]:
    devices = Device.objects.bulk_create(
        Device(
            name=d.name,
            kind=d.kind,
            serial_number=d.serial,
            home_room_id=room_ids[d.home_room] if d.home_room is not None else None,
            in_service=d.in_service,
            calibration_due=layout.anchor + dt.timedelta(days=DAYS_TO_CALIBRATION + 7 * i),
        )
        for i, d in enumerate(layout.devices)
    )
    return [d.pk for d in devices]


DAYS_TO_CALIBRATION = 180


def seed_closures(layout: Layout) -> None:
    ClinicClosure.objects.bulk_create(
        ClinicClosure(start_date=day, end_date=day, reason=reason) for day, reason in layout.closures
    )


def seed_medications() -> list[int]:
    ids = []
    for name, concentration, charge, modality, _ in dataset.MEDICATIONS:
        medication, _ = Medication.objects.get_or_create(
            name=name,
            concentration=concentration,
            defaults={"polarity": charge, "modalities": [modality]},
        )
        ids.append(medication.pk)
    return ids


def seed_patients(layout: Layout) -> list[int]:
    ids: list[int] = []
    batch: list[Patient] = []
    for spec in dataset.patient_specs(layout):
        batch.append(
            Patient(
                mrn=spec.mrn,
                first_name=spec.first_name,
                last_name=spec.last_name,
                name_key=name_key(spec.first_name, spec.last_name),
                date_of_birth=spec.date_of_birth,
                sex=spec.sex,
                email=spec.email,
                phone=spec.phone,
                reminder_opt_in=spec.reminder_opt_in,
            )
        )
        if len(batch) == BATCH:
            ids += [p.pk for p in Patient.objects.bulk_create(batch, batch_size=INSERT_BATCH)]
            batch = []
    ids += [p.pk for p in Patient.objects.bulk_create(batch, batch_size=INSERT_BATCH)]
    return ids


def seed_screenings(layout: Layout, patient_ids: list[int], therapist_user_ids: list[int]) -> None:
    noon = local_datetime(layout.anchor, dt.time(12))
    Screening.objects.bulk_create(
        (
            Screening(
                patient_id=patient_id,
                screened_at=noon - dt.timedelta(days=spec.screened_days_ago),
                screened_by_id=therapist_user_ids[i % len(therapist_user_ids)],
            )
            for i, (spec, patient_id) in enumerate(
                zip(dataset.patient_specs(layout), patient_ids, strict=True)
            )
        ),
        batch_size=INSERT_BATCH,
    )


PLAN_PARAMS = (
    "dose_ma_min",
    "current_ma",
    "polarity",
    "electrode_type",
    "frequency_mhz",
    "intensity_w_cm2",
    "duty_cycle_pct",
    "treatment_minutes",
    "tray",
    "polarity_alternation",
    "maintenance_interval_days",
)
PLAN_COLUMNS = (
    "patient_id",
    "modality",
    "medication_id",
    "indication",
    "icd10_code",
    "body_site",
    "side",
    "prescriber",
    "sessions_prescribed",
    "sessions_authorized",
    "frequency_per_week",
    "min_interval_hours",
    "session_minutes",
    "status",
    *PLAN_PARAMS,
)


def _plan(course: Course, fixture: Fixture, *, status: str, indication: str | None = None) -> tuple:
    """A plan's row in PLAN_COLUMNS order (the modality's parameters, the others None)."""
    params = course.params
    values = []
    for name in PLAN_PARAMS:
        value = params.get(name)
        if isinstance(value, float):
            value = Decimal(str(value))
        elif name in ("dose_ma_min", "current_ma") and value is not None:
            value = Decimal(value)
        values.append(value)
    return (
        fixture.patients[course.patient],
        course.modality,
        fixture.medications[course.medication] if course.medication is not None else None,
        indication or course.site[2],
        course.site[1],
        course.site[0],
        course.side,
        course.prescriber if course.modality != "tap_water" else "",
        course.sessions_prescribed,
        course.sessions_authorized,
        course.frequency_per_week,
        course.min_interval_hours,
        course.session_minutes,
        status,
        *values,
    )


def seed_waiting_plans(fixture: Fixture) -> None:
    """Active plans with nothing booked yet (new referrals), for the booking
    benchmarks and the load test; a few are on the waitlist."""
    generator = dataset.Generator(fixture.layout)
    generator.rng.seed(f"waiting-{fixture.layout.seed}")
    plans = [
        _plan(
            generator.new_course(-1 - i),
            fixture,
            status=TreatmentPlan.Status.ACTIVE,
            indication=dataset.WAITING_INDICATION,
        )
        for i in range(dataset.WAITING_PLANS)
    ]
    ids = insert_rows(TreatmentPlan, PLAN_COLUMNS, plans)
    WaitlistEntry.objects.bulk_create(
        WaitlistEntry(
            patient_id=plan[0],
            plan_id=plan_id,
            preferred_weekdays=[i % 5],
            notes="Prefers mornings" if i % 2 else "",
        )
        for i, (plan, plan_id) in enumerate(zip(plans[:40], ids, strict=False))
    )


def ensure_fixture(*, layout_for: Callable[[dt.date, int], Layout], anchor: dt.date | None, patients: int):
    """Load the fixture's ids, or make it."""
    existing = existing_anchor()
    if existing is not None:
        count = bench_patients().count()
        layout = layout_for(existing, count)
        devices = dict(
            Device.objects.filter(serial_number__startswith=dataset.DEVICE_SERIAL_PREFIX).values_list(
                "serial_number", "pk"
            )
        )
        therapist_rows = list(
            Therapist.objects.filter(user__username__startswith=dataset.USERNAME_PREFIX)
            .order_by("user__username")
            .values_list("pk", "user_id")
        )
        return Fixture(
            layout=layout,
            therapists=[pk for pk, _ in therapist_rows],
            therapist_users=[user for _, user in therapist_rows],
            rooms=list(
                Room.objects.filter(name__startswith=dataset.ROOM_PREFIX)
                .order_by("name")
                .values_list("pk", flat=True)
            ),
            devices=[devices[d.serial] for d in layout.devices],
            patients=list(bench_patients().order_by("mrn").values_list("pk", flat=True)),
            medications=seed_medications(),
            front_desk=User.objects.get(username=dataset.FRONT_DESK_USERNAME).pk,
        ), False
    layout = layout_for(anchor or timezone.localdate(), patients)
    therapist_users, front_desk = seed_users(layout)
    therapists = seed_therapists(layout, therapist_users)
    seed_working_hours(layout, therapists)
    seed_exceptions(layout, therapists)
    rooms = seed_rooms(layout)
    devices = seed_devices(layout, rooms)
    seed_closures(layout)
    medications = seed_medications()
    patient_ids = seed_patients(layout)
    seed_screenings(layout, patient_ids, therapist_users)
    fixture = Fixture(
        layout, therapists, therapist_users, rooms, devices, patient_ids, medications, front_desk
    )
    seed_waiting_plans(fixture)
    return fixture, True


def ensure_era(layout: Layout, fixture: Fixture) -> None:
    """An earlier era's leave, training and closures, made when the stream first reaches it."""
    first = local_datetime(layout.days[0], dt.time.min)
    last = local_datetime(layout.days[-1] + dt.timedelta(days=1), dt.time.min)
    made = TherapistException.objects.filter(
        therapist_id__in=fixture.therapists, start__gte=first, start__lt=last
    ).exists()
    if not made:
        seed_exceptions(layout, fixture.therapists)
        seed_closures(layout)


# -- statuses ---------------------------------------------------------------------
def status_fields(start: dt.datetime, end: dt.datetime, draw: float, draw2: float, now: dt.datetime) -> dict:
    """Mostly completed in the past, scheduled or confirmed ahead; some
    cancelled (a few late, R12) and some no-shows."""
    if end <= now:
        if draw < 0.86:
            return {
                "status": Status.COMPLETED,
                "checked_in_at": start - dt.timedelta(minutes=5),
                "completed_at": end + dt.timedelta(minutes=10),
            }
        if draw < 0.90:
            return {"status": Status.NO_SHOW, "no_show_at": start + dt.timedelta(minutes=15)}
    elif start <= now:
        return {"status": Status.CHECKED_IN, "checked_in_at": start - dt.timedelta(minutes=5)}
    elif draw < 0.72:
        return {"status": Status.SCHEDULED}
    elif draw < 0.92:
        return {"status": Status.CONFIRMED, "confirmed_at": min(start - dt.timedelta(days=2), now)}
    # cancelled: mostly days ahead, a tenth less than a day ahead (late)
    ahead = dt.timedelta(hours=2 + 20 * draw2) if draw2 < 0.1 else dt.timedelta(days=1 + 9 * draw2)
    cancelled_at = min(start - ahead, now)
    return {
        "status": Status.CANCELLED,
        "cancelled_at": cancelled_at,
        "cancel_reason": dataset.CANCEL_REASONS[int(draw2 * 1000) % len(dataset.CANCEL_REASONS)],
        "late_cancellation": start - cancelled_at < dt.timedelta(hours=24),
        "sequence": 1,
    }


def plan_status(course: Course, now: dt.datetime) -> str:
    last = course.sessions[-1]
    end = local_datetime(course.layout.days[last.day], last.start_time()) + dt.timedelta(minutes=last.minutes)
    finished = end <= now and len(course.sessions) >= course.sessions_prescribed - 3
    return TreatmentPlan.Status.COMPLETED if finished else TreatmentPlan.Status.ACTIVE


# -- the batch steps ----------------------------------------------------------------
def insert_plans(batch: list[Row], fixture: Fixture, now: dt.datetime) -> None:
    new: list[Course] = []
    seen: set[int] = set()
    for row in batch:
        course = row.course
        if course.plan_id is None and course.index not in seen:
            seen.add(course.index)
            new.append(course)
    ids = insert_rows(
        TreatmentPlan, PLAN_COLUMNS, [_plan(c, fixture, status=plan_status(c, now)) for c in new]
    )
    for course, plan_id in zip(new, ids, strict=True):
        course.plan_id = plan_id


APPOINTMENT_COLUMNS = (
    "patient_id",
    "plan_id",
    "therapist_id",
    "room_id",
    "device_id",
    "start",
    "end",
    "status",
    "confirmed_at",
    "checked_in_at",
    "completed_at",
    "no_show_at",
    "cancelled_at",
    "cancel_reason",
    "late_cancellation",
    "sequence",
)


def insert_appointments(batch: list[Row], fixture: Fixture, now: dt.datetime) -> None:
    patients, therapists = fixture.patients, fixture.therapists
    rooms, devices = fixture.rooms, fixture.devices
    tuples = []
    visits = []
    for row in batch:
        course, session = row.course, row.session
        start = local_datetime(course.layout.days[session.day], session.start_time())
        end = start + dt.timedelta(minutes=session.minutes)
        fields = status_fields(start, end, session.draw, session.draw2, now)
        get = fields.get
        tuples.append(
            (
                patients[course.patient],
                course.plan_id,
                therapists[session.therapist],
                rooms[session.room],
                devices[session.device],
                start,
                end,
                fields["status"],
                get("confirmed_at"),
                get("checked_in_at"),
                get("completed_at"),
                get("no_show_at"),
                get("cancelled_at"),
                get("cancel_reason", ""),
                get("late_cancellation", False),
                get("sequence", 0),
            )
        )
        visits.append((row, start, end, fields))
    ids = insert_rows(Appointment, APPOINTMENT_COLUMNS, tuples)
    for pk, (row, start, end, fields) in zip(ids, visits, strict=True):
        row.appointment = Visit(pk, start, end, fields)


HISTORY_COLUMNS = ("appointment_id", "changed_by_id", "action", "old_status", "note")


def insert_history(batch: list[Row], fixture: Fixture, now: dt.datetime) -> None:
    """The status changes the front desk made (cancellations, no-shows)."""
    changes = []
    for row in batch:
        appointment = row.appointment
        status = appointment.status
        if status == Status.CANCELLED:
            changes.append(
                (
                    appointment.pk,
                    fixture.front_desk,
                    "cancelled",
                    Status.SCHEDULED,
                    appointment.fields["cancel_reason"],
                )
            )
        elif status == Status.NO_SHOW:
            changes.append((appointment.pk, fixture.front_desk, "no_show", Status.SCHEDULED, ""))
    insert_rows(AppointmentChange, HISTORY_COLUMNS, changes)


BATCH_STEPS: tuple[Callable[[list[Row], Fixture, dt.datetime], None], ...] = (
    insert_plans,
    insert_appointments,
    insert_history,
)


# -- the whole seed ------------------------------------------------------------------
@dataclass
class SeedReport:
    anchor: dt.date
    before: int
    after: int
    created_fixture: bool
    seconds: float


def _layout_for(seed: int) -> Callable[[dt.date, int], Layout]:
    return lambda anchor, patients: dataset.build_layout(anchor=anchor, seed=seed, patients=patients)


def _rows(layout: Layout, upto: int) -> Iterable[tuple[int, Course, Session]]:
    for index, (course, session) in enumerate(dataset.sessions(layout)):
        if index >= upto:
            return
        yield index, course, session


@transaction.atomic
def seed(
    *,
    appointments: int,
    seed: int = dataset.SEED,
    patients: int = dataset.PATIENTS,
    anchor: dt.date | None = None,
    flush_first: bool = False,
    now: dt.datetime | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> SeedReport:
    began = time.perf_counter()
    now = now or timezone.now()
    if flush_first:
        flush()
        log("flushed the previous benchmark data")
        if appointments == 0:
            return SeedReport(anchor or timezone.localdate(), 0, 0, False, time.perf_counter() - began)
    fixture, created = ensure_fixture(layout_for=_layout_for(seed), anchor=anchor, patients=patients)
    layout = fixture.layout
    if created:
        log(f"made the clinic: anchor {layout.anchor}, {len(fixture.patients)} patients")
    if len(fixture.therapists) != dataset.THERAPISTS or len(fixture.rooms) != dataset.ROOMS:
        raise ImproperlyConfigured("The benchmark clinic is incomplete: run seed_bench with --flush.")
    before = stream_appointments().count()
    if before > appointments:
        raise ImproperlyConfigured(
            f"The database already has {before} benchmark appointments (> {appointments}): use --flush."
        )
    straddled_plan = (
        stream_appointments().order_by("-id").values_list("plan_id", flat=True).first() if before else None
    )
    last_old_course: Course | None = None
    eras_ready = {0}  # the fixture made the first era's leave, training and closures
    load = (
        deferred_indexes((Appointment, AppointmentChange, TreatmentPlan))
        if connection.vendor == "postgresql"
        and appointments - before >= max(Appointment.objects.count(), DEFER_INDEXES_FROM)
        else nullcontext()
    )
    with load:
        batch: list[Row] = []
        for index, course, session in _rows(layout, appointments):
            if index < before:
                last_old_course = course
                continue
            if course is last_old_course and course.plan_id is None:
                course.plan_id = straddled_plan  # the rest of a course begun in an earlier run
            if course.layout.era not in eras_ready:
                ensure_era(course.layout, fixture)
                eras_ready.add(course.layout.era)
            batch.append(Row(course, session))
            if len(batch) >= BATCH:
                for step in BATCH_STEPS:
                    step(batch, fixture, now)
                batch = []
        if batch:
            for step in BATCH_STEPS:
                step(batch, fixture, now)
    after = stream_appointments().count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics after a bulk load
    return SeedReport(layout.anchor, before, after, created, time.perf_counter() - began)
