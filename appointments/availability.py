"""Who and what is free when: the rules R1–R3 and R5 evaluated against data
loaded in bulk for a date range.

Booking (one slot), series booking (a few) and the slot finder (thousands of
candidates) all ask the same `Schedule`, so each rule exists once. A Schedule
runs a fixed number of queries whatever the range or the number of
candidates; the PostgreSQL exclusion constraints remain the last word on R1.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import islice

from django.db.models import Q

from appointments.models import (
    Appointment,
    ClinicClosure,
    Device,
    Room,
    Therapist,
    TherapistException,
    WaitlistEntry,
    WorkingHours,
)
from clinic.db import fetch_rows
from clinic.localtime import clinic_tz, local_date, local_datetime, local_day_bounds, span, week_key
from clinic.models import ClinicRules
from clinic.rule_codes import TAKEN, Problem, RuleCode
from clinic.together import read_together
from patients.models import Patient, Payer
from treatments.models import Authorization, TreatmentPlan

Interval = tuple[dt.datetime, dt.datetime]

# What the rules read of each booking (Schedule._bookings).
BOOKING_COLUMNS = (
    "id",
    "start",
    "end",
    "therapist_id",
    "room_id",
    "device_id",
    "patient_id",
    "plan_id",
    "status",
)

# No visit lasts longer. Interval queries also bound `start` from below with
# it, so the start index limits the scan to the range asked for: the cost
# follows the rows returned, not the years of history behind them.
LONGEST_VISIT = dt.timedelta(hours=24)


def _overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(windows: list[Interval], holes: list[Interval]) -> list[Interval]:
    result = []
    for start, end in windows:
        pieces = [(start, end)]
        for h_start, h_end in holes:
            next_pieces = []
            for p_start, p_end in pieces:
                if not _overlaps((p_start, p_end), (h_start, h_end)):
                    next_pieces.append((p_start, p_end))
                    continue
                if p_start < h_start:
                    next_pieces.append((p_start, h_start))
                if h_end < p_end:
                    next_pieces.append((h_end, p_end))
            pieces = next_pieces
        result.extend(pieces)
    return result


Key = tuple[str, int]


@dataclass
class _Index:
    """One resource's bookings, sorted, for lookups: their starts (to bisect),
    the longest booking (how far back one can reach), and the bookings merged
    into disjoint busy spans (a yes/no check is one bisect)."""

    starts: list[dt.datetime]
    longest: dt.timedelta
    span_starts: list[dt.datetime]
    span_ends: list[dt.datetime]


@dataclass
class Busy:
    """Non-cancelled appointments per resource. Rows are appended as they are
    read and sorted once, on the first lookup after a change; a lookup
    bisects instead of walking from the start of the range."""

    by_key: dict[Key, list[tuple[dt.datetime, dt.datetime, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _indexes: dict[Key, _Index] = field(default_factory=dict)

    def add(self, kind: str, key: int | None, start: dt.datetime, end: dt.datetime, appt_id: int) -> None:
        if key is None:
            return
        self.by_key[(kind, key)].append((start, end, appt_id))
        if self._indexes:  # none yet while a Schedule loads its bookings
            self._indexes.pop((kind, key), None)

    def _index(self, key: Key) -> _Index | None:
        index = self._indexes.get(key)
        if index is None:
            rows = self.by_key.get(key)
            if not rows:
                return None
            rows.sort()
            span_starts: list[dt.datetime] = []
            span_ends: list[dt.datetime] = []
            for start, end, _ in rows:
                if span_ends and start <= span_ends[-1]:
                    span_ends[-1] = max(span_ends[-1], end)
                else:
                    span_starts.append(start)
                    span_ends.append(end)
            longest = max(end - start for start, end, _ in rows)
            index = self._indexes[key] = _Index([r[0] for r in rows], longest, span_starts, span_ends)
        return index

    def clashes(self, kind: str, key: int, start: dt.datetime, end: dt.datetime):
        """The bookings that overlap [start, end), in order of start."""
        index = self._index((kind, key))
        if index is None:
            return
        rows = self.by_key[(kind, key)]
        for b_start, b_end, appt_id in islice(rows, bisect_left(index.starts, start - index.longest), None):
            if b_start >= end:
                break
            if b_end > start:
                yield b_start, b_end, appt_id

    def spans(self, kind: str, key: int, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """The disjoint busy spans that overlap [start, end), in order."""
        index = self._index((kind, key))
        if index is None:
            return []
        first = bisect_right(index.span_ends, start)
        last = bisect_left(index.span_starts, end, lo=first)
        return list(zip(index.span_starts[first:last], index.span_ends[first:last], strict=True))

    def first_free(self, kind: str, keys: list[int], start: dt.datetime, end: dt.datetime) -> int:
        """The position in `keys` of the first resource free for [start, end),
        or -1: is_free for each in turn, in one call (the slot finder asks
        at every free moment)."""
        indexes = self._indexes
        for position, key in enumerate(keys):
            index = indexes.get((kind, key)) or self._index((kind, key))
            if index is None:
                return position
            # The first busy span that ends after `start` must begin at or after `end`.
            ends = index.span_ends
            i = bisect_right(ends, start)
            if i == len(ends) or index.span_starts[i] >= end:
                return position
        return -1

    def is_free(self, kind: str, key: int, start: dt.datetime, end: dt.datetime) -> bool:
        return self.first_free(kind, [key], start, end) == 0


class Schedule:
    """Everything needed to judge slots for one plan between two local dates."""

    def __init__(
        self,
        *,
        plan: TreatmentPlan | None,
        date_from: dt.date,
        date_to: dt.date,
        exclude_appointment_id: int | None = None,
        patient: Patient | None = None,
        therapist: Therapist | int | None = None,
    ) -> None:
        """For a session of `plan`; or, with `plan=None` and a `patient`, for
        an evaluation: any active therapist and room, no device, and no plan
        rule (R4, R5) — R1–R3 still apply. With `therapist` (a row, or its
        id), slots are judged for that therapist only (`therapists` holds
        them alone, if active and qualified; `named_therapist` is the row)."""
        self.plan = plan
        self.patient = plan.patient if plan is not None else patient
        # Neither: who works when (the calendar's shading), no bookings loaded.
        self.hours_only = plan is None and patient is None
        self.modality = plan.modality if plan is not None else None
        self.exclude_id = exclude_appointment_id
        self.range_start = local_day_bounds(date_from)[0]
        self.range_end = local_day_bounds(date_to)[1]

        # The small reference reads (who, where, with what, when open, the
        # plan's authorizations) go in one round trip; then the bookings.
        if therapist is not None:
            # Only this therapist is judged (a booking that names one): their
            # row is at hand, or read here by its id; and only their hours
            # and absences are read.
            therapist_id = therapist if isinstance(therapist, int) else therapist.id
            if isinstance(therapist, int):
                therapist_rows = Therapist.objects.filter(pk=therapist_id)
            else:
                therapist_rows = Therapist.objects.none()
            of_therapists = Q(therapist_id=therapist_id)
        else:
            therapist_rows = Therapist.objects.filter(is_active=True)
            of_therapists = Q(therapist__is_active=True)
        reads = {
            "therapists": therapist_rows,
            "rooms": Room.objects.filter(is_active=True),
            "closures": ClinicClosure.objects.filter(end_date__gte=date_from, start_date__lte=date_to),
            # Hundreds of rows: plain tuples (a model instance each cost more
            # than the rest of the read).
            "hours": (
                WorkingHours.objects.filter(of_therapists),
                ("therapist_id", "weekday", "start_time", "end_time"),
            ),
            "exceptions": TherapistException.objects.filter(
                of_therapists, start__lt=self.range_end, end__gt=self.range_start
            ),
        }
        if self.modality is not None:
            reads["devices"] = Device.objects.filter(kind=Device.KIND_FOR_MODALITY[self.modality])
        if plan is not None and not self.hours_only:
            # R22: the plan's authorizations (none recorded: R4's count alone).
            reads["authorizations"] = Authorization.objects.filter(plan_id=plan.id).order_by(
                "valid_from", "id"
            )
            reads["payers"] = Payer.objects.filter(authorizations__plan_id=plan.id)
            # What a booking of the plan does next: the waitlist entry it may
            # close (services.waitlist_after_booked) ...
            reads["waitlist"] = WaitlistEntry.objects.filter(plan_id=plan.id, is_active=True)
        # ... and the clinic's settings row (R19's limits, the reminder offsets).
        reads["rules"] = ClinicRules.objects.filter(pk=1)
        # A day's bookings (one booking, a move) come in the same round trip,
        # read with the resources' filters as subqueries; a longer range (the
        # slot finder, the calendar) reads its many rows on their own, below.
        one_day = date_from == date_to and not self.hours_only
        if one_day:
            resources = Q(room_id__in=Room.objects.filter(is_active=True).values("id"))
            if therapist is not None:
                resources |= Q(therapist_id=therapist_id)
            else:
                resources |= Q(therapist_id__in=Therapist.objects.filter(is_active=True).values("id"))
            if self.modality is not None:
                kind = Device.KIND_FOR_MODALITY[self.modality]
                resources |= Q(device_id__in=Device.objects.filter(kind=kind).values("id"))
            reads["bookings"] = (Appointment.objects.filter(self._bookings(resources)), BOOKING_COLUMNS)
        read = read_together(**reads)
        self._rules = read["rules"][0] if read["rules"] else None
        self.waitlist_entries: list[WaitlistEntry] = read.get("waitlist", [])
        for entry in self.waitlist_entries:
            entry.plan = plan

        # The therapist a booking names (None when that id has no therapist).
        self.named_therapist: Therapist | None = None
        if therapist is not None:
            found = read["therapists"] if isinstance(therapist, int) else [therapist]
            self.named_therapist = found[0] if found else None
            read["therapists"] = [t for t in found if t.is_active]
        self.therapists = {
            t.id: t
            for t in read["therapists"]
            if self.modality is None or self.modality in (t.modalities or [])
        }
        self.rooms = {
            r.id: r for r in read["rooms"] if self.modality is None or self.modality in (r.modalities or [])
        }
        self.devices: dict[int, Device] = {d.id: d for d in read.get("devices", [])}
        self.closed_days: dict[dt.date, str] = {}
        for closure in read["closures"]:
            day = closure.start_date
            while day <= closure.end_date:
                self.closed_days[day] = closure.reason
                day += dt.timedelta(days=1)
        self.hours: dict[int, dict[int, list[tuple[dt.time, dt.time]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for therapist_id, weekday, start_time, end_time in read["hours"]:
            if therapist_id in self.therapists:
                self.hours[therapist_id][weekday].append((start_time, end_time))
        self.extra: dict[int, list[Interval]] = defaultdict(list)
        self.away: dict[int, list[tuple[dt.datetime, dt.datetime, str]]] = defaultdict(list)
        for exc in read["exceptions"]:
            if exc.therapist_id not in self.therapists:
                continue
            if exc.is_available:
                self.extra[exc.therapist_id].append((exc.start, exc.end))
            else:
                self.away[exc.therapist_id].append((exc.start, exc.end, exc.get_kind_display()))
        payers = {p.id: p for p in read.get("payers", [])}
        self.authorizations = read.get("authorizations", [])
        for authorization in self.authorizations:
            authorization.payer = payers[authorization.payer_id]

        self.busy = Busy()
        self._instants: dict[tuple[dt.date, dt.time], dt.datetime] = {}
        self._orders: dict[tuple, tuple[list, list[int]]] = {}
        self.names: dict[tuple[str, int], str] = {}
        self.plan_sessions: list[tuple[dt.datetime, int]] = []
        # R4: the plan's booked and completed sessions (selectors.sessions_used).
        self.sessions_used = 0
        if self.hours_only:
            return
        if one_day:
            rows = read["bookings"]
        else:
            resources = (
                Q(therapist_id__in=self.therapists)
                | Q(room_id__in=self.rooms)
                | Q(device_id__in=self.devices)
            )
            # Unordered: Busy sorts each resource's rows itself, and the
            # plan's sessions are sorted below.
            rows = fetch_rows(
                Appointment.objects.filter(self._bookings(resources)).order_by().values_list(*BOOKING_COLUMNS)
            )
        # The rows may be more than asked for (a day's read filters the
        # resources loosely): each is judged against the exact sets here.
        # A four-week search reads thousands: the loop appends to the busy
        # lists itself (what _add_busy does), with everything it needs at hand.
        plan_sessions = []
        plan_id_wanted = plan.id if plan is not None else None
        active, cancelled = Appointment.ACTIVE_STATUSES, Appointment.Status.CANCELLED
        # In UTC, as the rows are: comparing datetimes of two time zones
        # costs a UTC offset lookup each time, and a four-week search reads thousands.
        range_start, range_end = self.range_start.astimezone(dt.UTC), self.range_end.astimezone(dt.UTC)
        earliest = range_start - LONGEST_VISIT
        therapists, rooms, devices, patient_pk = self.therapists, self.rooms, self.devices, self.patient.pk
        by_therapist, by_room, by_device, of_patient = (
            defaultdict(list),
            defaultdict(list),
            defaultdict(list),
            [],
        )
        for appt_id, start, end, therapist_id, room_id, device_id, patient_id, plan_id, status in rows:
            if plan_id == plan_id_wanted and plan_id is not None and status in active:
                self.sessions_used += 1
                if appt_id != exclude_appointment_id:
                    plan_sessions.append((start, appt_id))
            if appt_id == exclude_appointment_id or status == cancelled:
                continue
            if not (earliest < start < range_end and end > range_start):
                continue  # one of the plan's sessions outside the range
            if not (
                therapist_id in therapists
                or room_id in rooms
                or device_id in devices
                or patient_id == patient_pk
            ):
                continue
            row = (start, end, appt_id)
            by_therapist[therapist_id].append(row)
            by_room[room_id].append(row)
            if device_id is not None:
                by_device[device_id].append(row)
            if patient_id == patient_pk:
                of_patient.append(row)
        lists = self.busy.by_key  # empty until now
        for kind, found in (("therapist", by_therapist), ("room", by_room), ("device", by_device)):
            for key, rows_of_key in found.items():
                lists[kind, key] = rows_of_key
        if of_patient:
            lists["patient", patient_pk] = of_patient
        self.plan_sessions = sorted(plan_sessions)

    def _bookings(self, resources: Q) -> Q:
        """One read for R1 (what is busy in the range: the resources', and the
        patient's) and, for a plan, R4/R5 (all of the plan's live sessions,
        inside the range or not)."""
        in_range = Q(
            start__lt=self.range_end, end__gt=self.range_start, start__gt=self.range_start - LONGEST_VISIT
        )
        wanted = (
            in_range & ~Q(status=Appointment.Status.CANCELLED) & (resources | Q(patient_id=self.patient.pk))
        )
        if self.plan is not None:
            wanted |= Q(plan_id=self.plan.id, status__in=Appointment.ACTIVE_STATUSES)
        return wanted

    @property
    def rules(self) -> ClinicRules:
        """The clinic's rules, read with the rest (made on first use, as ClinicRules.current)."""
        if self._rules is None:
            self._rules = ClinicRules.current()
        return self._rules

    def off_times(self, therapist_id: int, day: dt.date) -> list[Interval]:
        """The therapist's non-working time that day (the whole day when the
        clinic is closed): what the calendar shades."""
        bounds = [local_day_bounds(day)]
        if day in self.closed_days:
            return bounds
        return _subtract(bounds, self.available_windows(therapist_id, day))

    @property
    def what(self) -> str:
        """What is booked, in words: "phonophoresis" or "evaluations"."""
        return self.plan.get_modality_display().lower() if self.plan is not None else "evaluations"

    @property
    def needs_device(self) -> bool:
        return self.modality is not None

    # -- bookkeeping -------------------------------------------------------
    def _add_busy(self, appt_id, start, end, therapist_id, room_id, device_id, patient_id) -> None:
        add, row = self.busy.add, (start, end, appt_id)
        add("therapist", therapist_id, *row)
        add("room", room_id, *row)
        add("device", device_id, *row)
        if patient_id == self.patient.pk:
            add("patient", patient_id, *row)

    def hold(self, start: dt.datetime, end: dt.datetime, *, therapist, room, device) -> None:
        """Count a slot as taken (series booking places occurrences in turn)."""
        self._add_busy(0, start, end, therapist.id, room.id, device.id if device else None, self.patient.pk)
        self.plan_sessions.append((start, 0))
        self.plan_sessions.sort()

    # -- R2: working hours, exceptions, closures ---------------------------
    def available_windows(self, therapist_id: int, day: dt.date) -> list[Interval]:
        if day in self.closed_days:
            return []
        # A search asks for every therapist on every day, and most share the
        # same hours: each wall-clock time of a day becomes an instant once.
        at = self._instants
        windows = []
        for start, end in self.hours.get(therapist_id, {}).get(day.weekday(), ()):
            if (day, start) not in at:
                at[day, start] = local_datetime(day, start)
            if (day, end) not in at:
                at[day, end] = local_datetime(day, end)
            windows.append((at[day, start], at[day, end]))
        extra, away = self.extra.get(therapist_id), self.away.get(therapist_id)
        if extra:
            day_bounds = local_day_bounds(day)
            windows += [w for w in extra if _overlaps(w, day_bounds)]
        if len(windows) > 1:
            windows = _merge(windows)
        if away:
            return _subtract(windows, [(s, e) for s, e, _ in away])
        return windows

    def working_problems(self, therapist: Therapist, start: dt.datetime, end: dt.datetime) -> list[Problem]:
        day = local_date(start)
        if day in self.closed_days:
            return [
                Problem(
                    RuleCode.R2_CLOSURE,
                    "start",
                    f"The clinic is closed on {day:%a %d %b %Y} ({self.closed_days[day]}).",
                )
            ]
        for a_start, a_end, kind in self.away.get(therapist.id, []):
            if _overlaps((a_start, a_end), (start, end)):
                return [
                    Problem(
                        RuleCode.R2_EXCEPTION,
                        "start",
                        f"{therapist} is away ({kind.lower()}) {span(a_start, a_end)}.",
                    )
                ]
        if any(
            w_start <= start and end <= w_end for w_start, w_end in self.available_windows(therapist.id, day)
        ):
            return []
        return [
            Problem(
                RuleCode.R2_HOURS,
                "start",
                f"{span(start, end)} on {day:%a %d %b} is outside {therapist}'s working hours.",
            )
        ]

    # -- R1 ------------------------------------------------------------------
    def _taken(self, kind: str, obj, start: dt.datetime, end: dt.datetime, label: str) -> list[Problem]:
        problems = []
        for b_start, b_end, appt_id in self.busy.clashes(kind, obj.id, start, end):
            message = f"{label} is booked {span(b_start, b_end)}."
            conflict = {
                "resource": kind,
                "id": obj.id,
                "name": label,
                "start": b_start.isoformat(),
                "end": b_end.isoformat(),
                "appointment": appt_id or None,
                "message": message,
                "code": TAKEN[kind],
            }
            problems.append(Problem(TAKEN[kind], kind if kind != "patient" else "start", message, conflict))
        return problems

    def therapist_problems(self, therapist: Therapist, start: dt.datetime, end: dt.datetime) -> list[Problem]:
        if therapist.id not in self.therapists:
            return [
                Problem(
                    RuleCode.R3_THERAPIST,
                    "therapist",
                    f"{therapist} does not give {self.what}.",
                )
            ]
        return self.working_problems(therapist, start, end) + self._taken(
            "therapist", therapist, start, end, str(therapist)
        )

    def patient_problems(self, start: dt.datetime, end: dt.datetime) -> list[Problem]:
        return self._taken("patient", self.patient, start, end, "The patient")

    # -- R3 --------------------------------------------------------------------
    def room_problems(self, room: Room, start: dt.datetime, end: dt.datetime) -> list[Problem]:
        if room.id not in self.rooms:
            return [
                Problem(
                    RuleCode.R3_ROOM,
                    "room",
                    f"{room} is not set up for {self.what}.",
                )
            ]
        return self._taken("room", room, start, end, str(room))

    @staticmethod
    def device_unusable(device: Device, day: dt.date) -> Problem | None:
        """R3: why the device may not be used that day (None when it may)."""
        if not device.in_service:
            return Problem(RuleCode.R3_SERVICE, "device", f"{device} is out of service.")
        if device.calibration_due and device.calibration_due < day:
            return Problem(
                RuleCode.R3_CALIBRATION,
                "device",
                f"{device} is past its calibration due date ({device.calibration_due}).",
            )
        return None

    def device_problems(self, device: Device, start: dt.datetime, end: dt.datetime) -> list[Problem]:
        if not self.needs_device:
            return [Problem(RuleCode.R3_DEVICE, "device", "An evaluation uses no device.")]
        if device.id not in self.devices:
            kind = Device.Kind(Device.KIND_FOR_MODALITY[self.modality]).label.lower()
            return [Problem(RuleCode.R3_DEVICE, "device", f"{device} is not a {kind}.")]
        unusable = self.device_unusable(device, local_date(start))
        if unusable:
            return [unusable]
        return self._taken("device", device, start, end, str(device))

    def pick_room(self, start, end, *, prefer: Room | None = None) -> Room | None:
        # Yes/no checks: building each refusal's message cost more than the search.
        rooms, ids = self._rooms_in_order(prefer.id if prefer is not None else None)
        found = self.busy.first_free("room", ids, start, end)
        return rooms[found] if found >= 0 else None

    def pick_device(
        self, start, end, *, room: Room | None = None, day: dt.date | None = None
    ) -> Device | None:
        """`day`: the visit's local date, when the caller has it at hand."""
        devices, ids = self._devices_in_order(room.id if room is not None else None, day or local_date(start))
        found = self.busy.first_free("device", ids, start, end)
        return devices[found] if found >= 0 else None

    # The order rooms and devices are offered in (the preferred room, the
    # room's own devices first, those usable that day), sorted once per
    # search, not once per moment; with their ids, for Busy.first_free.
    def _rooms_in_order(self, prefer_id: int | None) -> tuple[list[Room], list[int]]:
        key = ("rooms", prefer_id)
        if key not in self._orders:
            rooms = sorted(self.rooms.values(), key=lambda r: (r.id != prefer_id, r.name))
            self._orders[key] = (rooms, [r.id for r in rooms])
        return self._orders[key]

    def _devices_in_order(self, room_id: int | None, day: dt.date) -> tuple[list[Device], list[int]]:
        key = ("devices", room_id, day)
        if key not in self._orders:
            devices = sorted(
                (d for d in self.devices.values() if not self.device_unusable(d, day)),
                key=lambda d: (room_id is None or d.home_room_id != room_id, d.name, d.id),
            )
            self._orders[key] = (devices, [d.id for d in devices])
        return self._orders[key]

    # -- R5 ------------------------------------------------------------------
    def plan_problems(self, start: dt.datetime) -> list[Problem]:
        plan = self.plan
        if plan is None:
            return []  # R5 is a plan's rule; an evaluation has none
        problems = []
        other = self.plan_session_near(start)
        if other is not None:
            problems.append(
                Problem(
                    RuleCode.R5_INTERVAL,
                    "start",
                    f"Sessions of this plan must be at least {plan.min_interval_hours} h apart; "
                    f"another is on {other.astimezone(clinic_tz()):%a %d %b %H:%M}.",
                )
            )
        return problems + self.plan_day_problems(start)

    def plan_session_near(self, start: dt.datetime) -> dt.datetime | None:
        """R5: the plan's session closer to `start` than its minimum interval, if any."""
        gap = dt.timedelta(hours=self.plan.min_interval_hours)
        for other, _ in self.plan_sessions:
            if abs(other - start) < gap:
                return other
        return None

    def plan_day_problems(self, start: dt.datetime) -> list[Problem]:
        """The plan's rules that depend only on the visit's local date: R22
        (an authorization covers it, with a visit left) and R5's sessions a
        week (the slot finder asks once a day, not at every moment)."""
        plan = self.plan
        if plan is None:
            return []
        problems = self.authorization_problems(start)
        week = week_key(start)
        in_week = sum(1 for other, _ in self.plan_sessions if week_key(other) == week)
        if in_week >= plan.frequency_per_week:
            problems.append(
                Problem(
                    RuleCode.R5_WEEK,
                    "start",
                    f"This plan allows {plan.frequency_per_week} session(s) a week; "
                    f"the week of {local_date(start):%d %b} already has {in_week}.",
                )
            )
        return problems

    def authorization_problems(self, start: dt.datetime) -> list[Problem]:
        """R22: a visit's date falls in one of the plan's authorizations, which
        has a visit left once the plan's other visits in its period count."""
        if not self.authorizations:
            return []
        day = local_date(start)
        covering = next((a for a in self.authorizations if a.covers(day)), None)
        if covering is None:
            periods = "; ".join(
                f"{a.number}: {a.valid_from:%d %b %Y} – {a.valid_to:%d %b %Y}" for a in self.authorizations
            )
            return [
                Problem(
                    RuleCode.R22_NONE,
                    "start",
                    f"No insurance authorization covers {day:%a %d %b %Y} (authorized: {periods}). "
                    f"Record a new authorization first.",
                )
            ]
        used = sum(1 for other, _ in self.plan_sessions if covering.covers(local_date(other)))
        if used >= covering.visits_authorized:
            return [
                Problem(
                    RuleCode.R22_USED,
                    "start",
                    f"Authorization {covering.number} ({covering.payer}) allows "
                    f"{covering.visits_authorized} visits from {covering.valid_from:%d %b} to "
                    f"{covering.valid_to:%d %b %Y}; all are booked or done. "
                    f"Record a new authorization first.",
                )
            ]
        return []

    @staticmethod
    def _none_free(kind: str, label: str, start: dt.datetime, end: dt.datetime, *, exist: bool) -> Problem:
        """Every suitable room (or device) is taken then: a conflict (409), like
        a named one; none set up at all is a configuration problem (400)."""
        if not exist:
            unsuited = RuleCode.R3_ROOM if kind == "room" else RuleCode.R3_DEVICE
            return Problem(unsuited, kind, f"No {label} is set up: a clinic admin adds one under resources.")
        message = f"No {label} is free {span(start, end)}."
        conflict = {
            "resource": kind,
            "id": None,
            "name": label,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "appointment": None,
            "message": message,
            "code": TAKEN[kind],
        }
        return Problem(TAKEN[kind], kind, message, conflict)

    # -- a whole slot --------------------------------------------------------
    def slot_problems(
        self,
        start: dt.datetime,
        end: dt.datetime,
        *,
        therapist: Therapist,
        room: Room | None,
        device: Device | None,
    ) -> tuple[list[Problem], Room | None, Device | None]:
        """Check one slot; pick a free room and device when none is given."""
        problems = self.therapist_problems(therapist, start, end)
        problems += self.patient_problems(start, end)
        problems += self.plan_problems(start)
        if room is None:
            room = self.pick_room(start, end)
            if room is None:
                label = f"{self.plan.get_modality_display().lower()} room" if self.plan else "room"
                problems.append(self._none_free("room", label, start, end, exist=bool(self.rooms)))
        else:
            problems += self.room_problems(room, start, end)
        if not self.needs_device:
            if device is not None:
                problems += self.device_problems(device, start, end)
            device = None
        elif device is None:
            device = self.pick_device(start, end, room=room)
            if device is None:
                label = Device.Kind(Device.KIND_FOR_MODALITY[self.modality]).label.lower()
                problems.append(self._none_free("device", label, start, end, exist=bool(self.devices)))
        else:
            problems += self.device_problems(device, start, end)
        return problems, room, device
