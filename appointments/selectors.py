"""Reads used by several views and the API: each runs a fixed number of
queries however many appointments there are."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Count, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from appointments.availability import LONGEST_VISIT, Schedule
from appointments.models import Appointment, Therapist, WaitlistEntry
from clinic.localtime import clinic_tz, local_date, local_datetime, local_day_bounds
from clinic.models import ClinicRules
from patients.models import Patient, Screening
from treatments.models import Authorization, Modality, TreatmentPlan
from treatments.selectors import plans_with_counts


def annotate_session_counts(queryset: QuerySet[TreatmentPlan]) -> QuerySet[TreatmentPlan]:
    """`scheduled_count` and `completed_count` per plan, in the same query
    (registered with treatments.selectors.plans_with_counts)."""
    return queryset.annotate(
        scheduled_count=Count("appointments", filter=Q(appointments__status__in=Appointment.BOOKED_STATUSES)),
        completed_count=Count("appointments", filter=Q(appointments__status=Appointment.Status.COMPLETED)),
    )


def annotate_authorization_use(queryset: QuerySet[Authorization]) -> QuerySet[Authorization]:
    """R22: `visits_used`, the plan's booked and completed visits whose date
    (in clinic time) falls in the authorization's period (registered with
    treatments.selectors.authorizations_with_use)."""
    used = (
        Appointment.objects.filter(plan_id=OuterRef("plan_id"), status__in=Appointment.ACTIVE_STATUSES)
        .annotate(day=TruncDate("start", tzinfo=clinic_tz()))
        .filter(day__gte=OuterRef("valid_from"), day__lte=OuterRef("valid_to"))
        .order_by()
        .values("plan_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(visits_used=Coalesce(Subquery(used, output_field=IntegerField()), Value(0)))


def sessions_used(plan: TreatmentPlan) -> int:
    """R4: booked and completed sessions, as R14 counts them."""
    counted = annotate_session_counts(TreatmentPlan.objects.filter(pk=plan.pk)).values(
        "scheduled_count", "completed_count"
    )
    row = counted.get()
    return row["scheduled_count"] + row["completed_count"]


def with_session_number(queryset: QuerySet[Appointment]) -> QuerySet[Appointment]:
    """Annotate "k of N": k counts the plan's live sessions up to this one."""
    earlier = (
        Appointment.objects.filter(
            plan_id=OuterRef("plan_id"), status__in=Appointment.ACTIVE_STATUSES, start__lte=OuterRef("start")
        )
        .order_by()
        .values("plan_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return queryset.annotate(
        session_number=Coalesce(Subquery(earlier, output_field=IntegerField()), Value(0)),
    )


def appointment_list(queryset: QuerySet[Appointment] | None = None) -> QuerySet[Appointment]:
    queryset = queryset if queryset is not None else Appointment.objects.all()
    return with_session_number(
        queryset.select_related("patient", "plan", "plan__medication", "therapist", "room", "device", "note")
    )


# What the API's appointment rows show (appointments.api.AppointmentSerializer):
# ids, times and status, and the plan's session limit. Joining and loading
# whole patients (phone numbers parsed), plans and notes was most of a
# week's list (issue 19).
API_FIELDS = (
    "kind",
    "patient_id",
    "plan_id",
    "therapist_id",
    "room_id",
    "device_id",
    "start",
    "end",
    "status",
    "cancel_reason",
    "late_cancellation",
)


def appointment_rows(queryset: QuerySet[Appointment] | None = None) -> QuerySet[Appointment]:
    """Visits with `session_number` and `plan_session_limit` (R4's limit,
    None for an evaluation), only the API's fields loaded."""
    queryset = queryset if queryset is not None else Appointment.objects.all()
    return with_session_number(queryset.only(*API_FIELDS)).annotate(
        plan_session_limit=Coalesce("plan__sessions_authorized", "plan__sessions_prescribed")
    )


# What a calendar event shows (appointments.views.events) and its warnings read.
CALENDAR_COLUMNS = (
    "pk",
    "kind",
    "start",
    "end",
    "status",
    "patient_id",
    "plan_id",
    "therapist_id",
    "session_number",
    "patient__first_name",
    "patient__last_name",
    "plan__status",
    "plan__modality",
    "plan__sessions_authorized",
    "plan__sessions_prescribed",
    "therapist__display_name",
    "room__name",
)


@dataclass(slots=True)
class CalendarRow:
    """One visit of the calendar feed: what its event shows and with_warnings
    reads, as plain values (model instances, five a row with their deferred
    fields, were most of a week's feed)."""

    pk: int
    kind: str
    start: dt.datetime
    end: dt.datetime
    status: str
    patient_id: int
    plan_id: int | None
    therapist_id: int
    session_number: int
    patient: DayPatient
    plan: DayPlan | None
    therapist_name: str
    room_name: str
    warnings: list = field(default_factory=list)
    attendance: Attendance | None = None

    @property
    def is_evaluation(self) -> bool:
        return self.kind == Appointment.Kind.EVALUATION


def appointments_for_calendar(
    *, start: dt.datetime, end: dt.datetime, therapist: int | None = None, room: int | None = None
) -> list[CalendarRow]:
    """The calendar feed's visits (appointments_between's, in its order), as
    CalendarRows: only the columns an event shows."""
    rows = appointments_between(start=start, end=end, therapist=therapist, room=room)
    found = []
    for row in rows.select_related(None).values_list(*CALENDAR_COLUMNS):
        *visit, first, last, plan_status, modality, authorized, prescribed, therapist_name, room_name = row
        plan = _day_plan(visit[6], plan_status, modality, authorized, prescribed)
        found.append(CalendarRow(*visit, DayPatient(first, last, ""), plan, therapist_name, room_name or ""))
    return found


def appointments_between(
    *,
    start: dt.datetime,
    end: dt.datetime,
    therapist: int | None = None,
    room: int | None = None,
    include_cancelled: bool = False,
) -> QuerySet[Appointment]:
    queryset = Appointment.objects.filter(start__lt=end, end__gt=start, start__gt=start - LONGEST_VISIT)
    if not include_cancelled:
        queryset = queryset.exclude(status=Appointment.Status.CANCELLED)
    if therapist:
        queryset = queryset.filter(therapist_id=therapist)
    if room:
        queryset = queryset.filter(room_id=room)
    return appointment_list(queryset).order_by("start", "therapist__display_name", "id")


# The day sheet and the calendar feed ask for hundreds of labels: a dict
# lookup each, not an enum lookup.
MODALITY_LABELS = {choice.value: str(choice.label) for choice in Modality}
STATUS_LABELS = {choice.value: str(choice.label) for choice in Appointment.Status}


@dataclass(slots=True)
class DayPatient:
    first_name: str
    last_name: str
    mrn: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(slots=True)
class DayPlan:
    status: str
    modality: str
    session_limit: int

    def get_modality_display(self) -> str:
        return MODALITY_LABELS.get(self.modality, self.modality)


def _day_plan(plan_id, status, modality, authorized, prescribed) -> DayPlan | None:
    """A row's plan from its joined columns (R4's limit: authorized, else prescribed)."""
    if not plan_id:
        return None
    return DayPlan(status, modality, prescribed if authorized is None else authorized)


@dataclass(slots=True)
class DayRow:
    """One visit of the day sheet: what its row shows and with_warnings reads.
    A busy clinic's day is hundreds of rows; model instances (whole patients
    with parsed phone numbers, plans, notes) were a quarter of the page."""

    pk: int
    start: dt.datetime
    end: dt.datetime
    status: str
    patient_id: int
    plan_id: int | None
    session_number: int
    patient: DayPatient
    plan: DayPlan | None
    therapist: str
    room: str
    note_status: str | None
    warnings: list = field(default_factory=list)
    attendance: Attendance | None = None
    authorization_alerts: list = field(default_factory=list)
    urls: dict = field(default_factory=dict)

    def get_status_display(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


DAY_SHEET_COLUMNS = (
    "pk",
    "start",
    "end",
    "status",
    "patient_id",
    "plan_id",
    "session_number",
    "patient__first_name",
    "patient__last_name",
    "patient__mrn",
    "plan__status",
    "plan__modality",
    "plan__sessions_authorized",
    "plan__sessions_prescribed",
    "therapist__display_name",
    "room__name",
    "note__status",
)


def day_sheet_rows(*, day: dt.date, therapist: int | None = None, room: int | None = None) -> list[DayRow]:
    """The day's visits, cancelled ones included, in the sheet's order."""
    start, end = local_day_bounds(day)
    rows = appointments_between(start=start, end=end, therapist=therapist, room=room, include_cancelled=True)
    found = []
    for row in rows.select_related(None).values_list(*DAY_SHEET_COLUMNS):
        # The visit's own columns (pk … session_number, DayRow's first seven), then the joined ones.
        *visit, first, last, mrn, plan_status, modality, authorized, prescribed, therapist_, room_, note = row
        plan = _day_plan(visit[5], plan_status, modality, authorized, prescribed)
        found.append(DayRow(*visit, DayPatient(first, last, mrn), plan, therapist_, room_ or "", note))
    return found


class Slot(NamedTuple):
    """One free slot (a tuple: a four-week search makes thousands)."""

    start: dt.datetime
    end: dt.datetime
    therapist: Therapist
    room: object
    device: object


def slots_free(
    *,
    plan: TreatmentPlan | None,
    date_from: dt.date,
    date_to: dt.date,
    therapist: int | None = None,
    step_minutes: int = 15,
    limit: int | None = 200,
    now: dt.datetime | None = None,
    patient: Patient | None = None,
    minutes: int | None = None,
    after: dt.time | None = None,
    before: dt.time | None = None,
    exclude_appointment_id: int | None = None,
) -> list[Slot]:
    """Free slots for one session of the plan — or, with `plan=None`, a
    `patient` and `minutes`, for an evaluation (see _slots_free). With a
    limit, the first week is searched alone first: the first 200 slots are
    nearly always there, and loading one week of bookings instead of the
    whole range is most of the cost. At most twice the fixed number of
    queries."""
    kwargs = {
        "plan": plan,
        "therapist": therapist,
        "step_minutes": step_minutes,
        "limit": limit,
        "now": now,
        "patient": patient,
        "minutes": minutes,
        "after": after,
        "before": before,
        "exclude_appointment_id": exclude_appointment_id,
    }
    first_week = date_from + dt.timedelta(days=6)
    if limit and first_week < date_to:
        slots = _slots_free(date_from=date_from, date_to=first_week, **kwargs)
        if len(slots) >= limit:
            return slots
    return _slots_free(date_from=date_from, date_to=date_to, **kwargs)


class FreeMoment(NamedTuple):
    """A moment free for one visit, on a local day: every therapist free
    then (in name order), and the room and device it would take."""

    day: dt.date
    start: dt.datetime
    end: dt.datetime
    therapists: list[Therapist]
    room: object
    device: object


def _slots_free(*, limit: int | None = 200, **kwargs) -> list[Slot]:
    slots: list[Slot] = []
    for free in free_moments(**kwargs):
        for candidate in free.therapists:
            slots.append(Slot(free.start, free.end, candidate, free.room, free.device))
            if limit and len(slots) >= limit:
                return slots
    return slots


def free_moments(
    *,
    plan: TreatmentPlan | None,
    date_from: dt.date,
    date_to: dt.date,
    therapist: int | None = None,
    step_minutes: int = 15,
    now: dt.datetime | None = None,
    patient: Patient | None = None,
    minutes: int | None = None,
    after: dt.time | None = None,
    before: dt.time | None = None,
    exclude_appointment_id: int | None = None,
    schedule: Schedule | None = None,
) -> Iterator[FreeMoment]:
    """Free moments for one visit, in time order: a therapist who gives the
    modality and works then, a suitable room and device (none for an
    evaluation), the patient free (the visit being moved, if any, does not
    count), and the plan's spacing (R5) kept; starting at or after `after`
    and ending by `before` (clinic time). A fixed number of queries for any
    range; a slot per therapist of each moment is slots_free's list.
    `schedule`: one the caller built with these same arguments."""
    now = now or timezone.now()
    if schedule is None:
        schedule = Schedule(
            plan=plan,
            patient=patient,
            date_from=date_from,
            date_to=date_to,
            exclude_appointment_id=exclude_appointment_id,
        )
    length = dt.timedelta(minutes=plan.session_minutes if plan is not None else minutes or 45)
    step = dt.timedelta(minutes=step_minutes)
    therapists = [t for t in schedule.therapists.values() if therapist is None or t.id == therapist]
    therapists.sort(key=lambda t: t.display_name)
    patient_pk = schedule.patient.pk
    # R22 and R5's weekly count depend on the local date alone: asked once a day.
    day_allowed: dict[dt.date, bool] = {}
    day = date_from
    while day <= date_to:
        day_start, day_end = (bound.astimezone(dt.UTC) for bound in local_day_bounds(day))
        starts: defaultdict[dt.datetime, list[Therapist]] = defaultdict(list)
        # Moments are walked in UTC, like the bookings they are compared with:
        # comparing datetimes of two time zones costs a UTC offset lookup each
        # time, and a four-week search compares hundreds of thousands.
        earliest = local_datetime(day, after).astimezone(dt.UTC) if after else None
        latest = local_datetime(day, before).astimezone(dt.UTC) if before else None
        for candidate in therapists:
            for w_start, w_end in schedule.available_windows(candidate.id, day):
                w_start, w_end = w_start.astimezone(dt.UTC), w_end.astimezone(dt.UTC)
                moment = w_start
                if earliest and moment < earliest:
                    # Keep the step grid of the working block when starting later.
                    moment += step * -(-(earliest - moment) // step)
                last = (min(w_end, latest) if latest else w_end) - length  # the last start that fits
                # The therapist's bookings in this window, merged (R1 for the
                # therapist): the moments of each free gap between them, then
                # a jump to the first moment of the grid after the booking.
                for busy_start, busy_end in schedule.busy.spans("therapist", candidate.id, w_start, w_end):
                    gap_last = min(last, busy_start - length)
                    while moment <= gap_last:
                        starts[moment].append(candidate)
                        moment += step
                    if moment < busy_end:
                        moment += step * -(-(busy_end - moment) // step)
                while moment <= last:
                    starts[moment].append(candidate)
                    moment += step
        for moment in sorted(starts):
            if moment < now:
                continue
            end = moment + length
            # R1 for the patient, R5 and R22: yes/no checks (patient_problems
            # and plan_problems build the messages).
            if not schedule.busy.is_free("patient", patient_pk, moment, end):
                continue
            # An exception's extra hours may cross midnight into another date.
            on = day if day_start <= moment < day_end else local_date(moment)
            if plan is not None:
                if schedule.plan_session_near(moment) is not None:
                    continue
                allowed = day_allowed.get(on)
                if allowed is None:
                    allowed = day_allowed[on] = not schedule.plan_day_problems(moment)
                if not allowed:
                    continue
            # The room and device free at a moment do not depend on the
            # therapist: pick them once per moment, not once per therapist.
            room = schedule.pick_room(moment, end)
            if room is None:
                continue
            device = None
            if schedule.needs_device:
                device = schedule.pick_device(moment, end, room=room, day=on)
                if device is None:
                    continue
            yield FreeMoment(
                day, moment, end, starts[moment], room, device
            )  # each free then (the walk above)
        day += dt.timedelta(days=1)


def next_free_slot(
    *, plan: TreatmentPlan, after: dt.datetime, prefer_therapist: int | None = None
) -> Slot | None:
    """After a session of a series is cancelled: the next slot that still
    respects the plan; the same time of day (and therapist) first."""
    start_day = max(local_date(after), local_date(timezone.now()))
    slots = slots_free(plan=plan, date_from=start_day, date_to=start_day + dt.timedelta(weeks=4), limit=None)
    wanted = after.astimezone(clinic_tz()).time()
    same_time = [s for s in slots if s.start.astimezone(clinic_tz()).time() == wanted]
    same_therapist = [s for s in same_time if s.therapist.id == prefer_therapist]
    for choice in (same_therapist, same_time, slots):
        if choice:
            return choice[0]
    return None


def entry_fits(entry: WaitlistEntry, start: dt.datetime, end: dt.datetime, modality: str) -> bool:
    """Would this waitlist entry take the slot (modality, weekday, time window, dates)?"""
    local_start, local_end = start.astimezone(clinic_tz()), end.astimezone(clinic_tz())
    day = local_start.date()
    return (
        entry.plan.modality == modality
        and (not entry.preferred_weekdays or day.weekday() in entry.preferred_weekdays)
        and (not entry.preferred_time_from or local_start.time() >= entry.preferred_time_from)
        and (not entry.preferred_time_to or local_end.time() <= entry.preferred_time_to)
        and (not entry.earliest_date or entry.earliest_date <= day)
        and (not entry.latest_date or entry.latest_date >= day)
    )


def _active_entries() -> QuerySet[WaitlistEntry]:
    return (
        WaitlistEntry.objects.filter(is_active=True, plan__status=TreatmentPlan.Status.ACTIVE)
        .select_related("patient", "plan")
        .order_by("created_at", "id")
    )


# `bookable(entry, start, therapist=)` says whether the entry's plan passes
# every booking rule at that slot (appointments.services.entry_bookable); the
# pages pass it in, since services sit above these reads.
Bookable = Callable[..., bool]
# Each rule check builds a Schedule for that plan (a fixed number of queries):
# a page checks at most this many waiting entries per slot, oldest first, and
# at most FREED_SLOTS_CHECKED freed slots, so its cost is bounded.
MATCH_CHECKS = 3
FREED_SLOTS_CHECKED = 5


def waitlist_matches(
    *,
    start: dt.datetime,
    end: dt.datetime,
    modality: str,
    exclude_plan: int | None = None,
    therapist: int | None = None,
    bookable: Bookable | None = None,
):
    """Active waitlist entries that would take a freed slot and could be
    booked into it."""
    entries = _active_entries().filter(plan__modality=modality).exclude(plan_id=exclude_plan)
    fitting = [e for e in entries if entry_fits(e, start, end, modality)]
    if bookable is None:
        return fitting
    chosen = Therapist.objects.filter(pk=therapist).first() if therapist else None
    return [e for e in fitting[:MATCH_CHECKS] if bookable(e, start, therapist=chosen)]


def freed_slots(
    *, now: dt.datetime | None = None, days_back: int = 7, bookable: Bookable | None = None
) -> list[tuple[Appointment, list]]:
    """Future visits cancelled lately, each with the waitlist entries that fit
    (and, given `bookable`, could be booked into the slot with its therapist)."""
    now = now or timezone.now()
    cancelled = (
        Appointment.objects.filter(
            status=Appointment.Status.CANCELLED,
            start__gt=now,
            cancelled_at__gte=now - dt.timedelta(days=days_back),
            plan__isnull=False,  # a freed evaluation is not a treatment slot
        )
        .select_related("therapist", "room", "plan")
        .order_by("start")[:50]
    )
    entries = list(_active_entries())
    found = []
    for index, appt in enumerate(cancelled):
        if bookable is not None and index >= FREED_SLOTS_CHECKED:
            break
        fitting = [
            e
            for e in entries
            if e.plan_id != appt.plan_id and entry_fits(e, appt.start, appt.end, appt.plan.modality)
        ]
        if bookable is not None:
            fitting = [e for e in fitting[:MATCH_CHECKS] if bookable(e, appt.start, therapist=appt.therapist)]
        found.append((appt, fitting))
    return found


# R12: attendance is shown over the last twelve months.
ATTENDANCE_DAYS = 365


@dataclass(frozen=True)
class Attendance:
    late_cancellations: int = 0
    no_shows: int = 0

    @property
    def any(self) -> bool:
        return bool(self.late_cancellations or self.no_shows)

    def __str__(self) -> str:
        return (
            f"{self.late_cancellations} late cancellation{'s' if self.late_cancellations != 1 else ''}, "
            f"{self.no_shows} no-show{'s' if self.no_shows != 1 else ''} in the last 12 months"
        )


@dataclass(frozen=True)
class Warning:
    code: str  # plan_on_hold | screening_due | authorization_low | late_cancellations
    text: str


def with_warnings(rows: list[Appointment], *, rules: ClinicRules | None = None) -> list[Appointment]:
    """Set `row.warnings` on each visit of a list (calendar, day sheet): the
    plan on hold, the screening due, few authorized sessions left, late
    cancellations or no-shows in the last twelve months (R12; the counts are
    also set as `row.attendance`). A fixed number of queries (three, and the
    clinic rules unless given) however many rows; the rows need plan loaded."""
    rules = rules or ClinicRules.current()
    patient_ids = {row.patient_id for row in rows}
    plan_ids = {row.plan_id for row in rows if row.plan_id}
    latest = dict(
        Screening.objects.filter(patient_id__any=patient_ids)
        .values("patient_id")
        .annotate(last=Max("screened_at"))
        .values_list("patient_id", "last")
    )
    attendance = attendance_for(patient_ids)
    left = {
        pk: (remaining, alert)
        for pk, remaining, alert in plans_with_counts(
            TreatmentPlan.objects.filter(pk__any=plan_ids), rules=rules
        ).values_list("pk", "remaining", "authorization_alert")
    }
    valid = dt.timedelta(days=rules.screening_valid_days)
    for row in rows:
        warnings = []
        remaining, alert = left.get(row.plan_id, (None, False))
        if row.plan_id and row.plan.status == TreatmentPlan.Status.ON_HOLD:
            warnings.append(
                Warning("plan_on_hold", "Plan on hold: no treatment until a therapist resumes it")
            )
        last = latest.get(row.patient_id)
        if last is None or local_date(last) + valid < local_date(row.start):
            warnings.append(Warning("screening_due", "Screening due" if last else "No screening yet"))
        if alert:
            sessions = "session" if remaining == 1 else "sessions"
            warnings.append(Warning("authorization_low", f"{remaining} authorized {sessions} left"))
        row.attendance = attendance.get(row.patient_id)
        if row.attendance is not None and row.attendance.any:
            warnings.append(Warning("late_cancellations", str(row.attendance)))
        row.warnings = warnings
    return rows


def attendance_rows(patient_ids: list[int], *, now: dt.datetime):
    """The R12 counts' query: a row per patient with late cancellations or
    no-shows in the twelve months before `now`. Each branch has its partial
    index (appt_patient_late_idx, appt_patient_noshow_idx), so it reads a
    year of those rows, not the patients' whole history."""
    since = now - dt.timedelta(days=ATTENDANCE_DAYS)
    late = Q(status=Appointment.Status.CANCELLED, late_cancellation=True, cancelled_at__gte=since)
    no_show = Q(status=Appointment.Status.NO_SHOW, start__gte=since, start__lt=now)
    return (
        Appointment.objects.filter(late | no_show, patient_id__any=patient_ids)
        .values("patient_id")
        .annotate(late=Count("id", filter=late), missed=Count("id", filter=no_show))
        .order_by()
    )


def attendance_for(patient_ids, *, now: dt.datetime | None = None) -> dict[int, Attendance]:
    """R12 counts per patient over the last twelve months, in one query."""
    patient_ids = list(set(patient_ids))
    if not patient_ids:
        return {}
    rows = attendance_rows(patient_ids, now=now or timezone.now())
    found = {row["patient_id"]: Attendance(row["late"], row["missed"]) for row in rows}
    return {pk: found.get(pk, Attendance()) for pk in patient_ids}
