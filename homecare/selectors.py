"""Reads of the home program used by pages, dashboards and recalls."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max

from clinic.localtime import local_date
from homecare.models import HomeProgram, HomeSession, IntakeResponse
from notes.models import SessionNote
from treatments.models import TreatmentPlan

HIGH_HDSS = 3  # 3–4: sweating barely tolerable or worse
WEEKS_SHOWN = 8


def live_programs():
    """Programs the patient is treating with: active, link open, plan active."""
    return HomeProgram.objects.filter(
        status=HomeProgram.Status.ACTIVE,
        link_revoked_at__isnull=True,
        plan__status=TreatmentPlan.Status.ACTIVE,
    )


def silent_programs(*, now: dt.datetime) -> list[tuple[HomeProgram, dt.date]]:
    """(program, the day the silence began: last log or start) for programs
    with nothing logged for HOME_SILENCE_DAYS."""
    today = local_date(now)
    found = []
    for program in live_programs().select_related("plan__patient").annotate(last_log=Max("sessions__date")):
        since = program.last_log or local_date(program.started_at)
        if (today - since).days >= settings.HOME_SILENCE_DAYS:
            found.append((program, since))
    return found


def hdss_episode(scores: list[tuple[dt.date, int]]) -> dt.date | None:
    """The day the current run of high HDSS (3–4) reached its second score,
    or None when the latest score is not high or the run has one score."""
    run: list[dt.date] = []
    for day, score in sorted(scores):
        run = [*run, day] if score >= HIGH_HDSS else []
    return run[1] if len(run) >= 2 else None


def hdss_rising_programs() -> list[tuple[HomeProgram, dt.date]]:
    programs = list(live_programs().select_related("plan__patient"))
    scores: dict[int, list] = {program.pk: [] for program in programs}
    for program_id, day, score in HomeSession.objects.filter(
        program__in=programs, hdss__isnull=False
    ).values_list("program_id", "date", "hdss"):
        scores[program_id].append((day, score))
    found = []
    for program in programs:
        if rose_on := hdss_episode(scores[program.pk]):
            found.append((program, rose_on))
    return found


@dataclass(frozen=True)
class Week:
    monday: dt.date
    logged: int
    planned: int

    @property
    def met(self) -> bool:
        return self.logged >= self.planned


def adherence(program: HomeProgram, *, today: dt.date, weeks: int = WEEKS_SHOWN) -> list[Week]:
    """Sessions logged against planned, per calendar week (Monday first),
    from the program's start, the latest `weeks` weeks, newest first."""
    start = local_date(program.started_at)
    this_monday = today - dt.timedelta(days=today.weekday())
    first_monday = max(
        start - dt.timedelta(days=start.weekday()), this_monday - dt.timedelta(weeks=weeks - 1)
    )
    counts: dict[dt.date, int] = {}
    for day in program.sessions.filter(date__gte=first_monday).values_list("date", flat=True):
        monday = day - dt.timedelta(days=day.weekday())
        counts[monday] = counts.get(monday, 0) + 1
    result = []
    monday = this_monday
    while monday >= first_monday:
        result.append(Week(monday, counts.get(monday, 0), program.sessions_per_week))
        monday -= dt.timedelta(weeks=1)
    return result


def next_suggested(program: HomeProgram, *, today: dt.date) -> dt.date:
    """The next day to treat: spaced evenly over the week, never twice a day."""
    last = program.sessions.aggregate(last=Max("date"))["last"]
    if last is None:
        return today
    gap = max(1, 7 // max(1, program.sessions_per_week))
    return max(today if last < today else today + dt.timedelta(days=1), last + dt.timedelta(days=gap))


def hdss_points(plan: TreatmentPlan) -> list[dict]:
    """Every HDSS of the plan, clinic (signed notes) and home, in date order;
    the intake's answer as a baseline."""
    points = [
        {"date": local_date(start), "hdss": score, "source": "clinic"}
        for start, score in SessionNote.objects.filter(
            appointment__plan=plan, status=SessionNote.Status.SIGNED, hdss__isnull=False
        ).values_list("appointment__start", "hdss")
    ]
    points += [
        {"date": day, "hdss": score, "source": "home"}
        for day, score in HomeSession.objects.filter(program__plan=plan, hdss__isnull=False).values_list(
            "date", "hdss"
        )
    ]
    intake = (
        IntakeResponse.objects.filter(patient_id=plan.patient_id, hdss__isnull=False)
        .exclude(status=IntakeResponse.Status.DISMISSED)
        .order_by("submitted_at")
        .first()
    )
    if intake is not None:
        points.append({"date": local_date(intake.submitted_at), "hdss": intake.hdss, "source": "intake"})
    return sorted(points, key=lambda p: (p["date"], p["source"]))


@dataclass(frozen=True)
class Attention:
    program: HomeProgram
    reason: str


def needing_attention(*, now: dt.datetime) -> list[Attention]:
    """The therapist dashboard's home patients: paused for a skin reaction,
    silent for HOME_SILENCE_DAYS, or HDSS 3–4 twice in a row."""
    found = [
        Attention(program, f"Paused: {program.status_reason}")
        for program in HomeProgram.objects.filter(status=HomeProgram.Status.PAUSED).select_related(
            "plan__patient"
        )
    ]
    found += [
        Attention(program, f"Nothing logged since {since:%d %b %Y}")
        for program, since in silent_programs(now=now)
    ]
    found += [
        Attention(program, f"HDSS 3–4 twice in a row (from {rose:%d %b %Y})")
        for program, rose in hdss_rising_programs()
    ]
    return found


def intakes_to_review():
    return IntakeResponse.objects.filter(status=IntakeResponse.Status.PROPOSED).select_related(
        "patient", "appointment"
    )


def front_desk_state(patient_id: int) -> str:
    """What the front desk may know: 'active', 'needs review' or '' (one query)."""
    statuses = set(
        HomeProgram.objects.filter(plan__patient_id=patient_id)
        .exclude(status=HomeProgram.Status.ENDED)
        .values_list("status", flat=True)
    )
    return state_of(statuses)


def state_of(statuses: set[str]) -> str:
    if HomeProgram.Status.PAUSED in statuses:
        return "needs review"
    return "active" if statuses else ""
