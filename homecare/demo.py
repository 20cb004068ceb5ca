"""Demo data for the home program (idempotent): one tap-water patient
treating at home for three weeks, with a log whose HDSS falls from 3 to 2,
so the plan page, the progress chart and the adherence table show something
real on first start."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from clinic.localtime import local_date
from homecare import services
from homecare.models import HomeProgram, HomeSession
from treatments.models import Modality, TreatmentPlan

WEEKS = 3
SETTINGS = {
    "device": "Home tap-water unit (demo)",
    "site": HomeProgram.Site.HANDS,
    "current_ma": Decimal("15"),
    "minutes": 20,
    "sessions_per_week": 3,
    "polarity_alternation": TreatmentPlan.PolarityAlternation.MIDWAY,
}


def seed() -> HomeProgram | None:
    if HomeProgram.objects.exists():
        return HomeProgram.objects.first()
    today = local_date(timezone.now())
    plan = next(
        (
            plan
            for plan in TreatmentPlan.objects.filter(
                modality=Modality.TAP_WATER, status=TreatmentPlan.Status.ACTIVE, tray=TreatmentPlan.Tray.HANDS
            ).select_related("patient")
            if (today - plan.patient.date_of_birth).days > 18 * 366
        ),
        None,
    )
    if plan is None:
        return None
    therapist = get_user_model().objects.get(username="therapist")
    program = services.program_start(plan=plan, user=therapist, values=SETTINGS)
    started = timezone.now() - dt.timedelta(weeks=WEEKS)
    HomeProgram.objects.filter(pk=program.pk).update(started_at=started)
    first = local_date(started)
    days = [
        first + dt.timedelta(days=d) for d in range(0, WEEKS * 7, 2) if first + dt.timedelta(days=d) <= today
    ]
    HomeSession.objects.bulk_create(
        HomeSession(
            program=program,
            date=day,
            site=HomeProgram.Site.HANDS,
            minutes=20,
            current_ma=Decimal("15"),
            skin_reaction=HomeSession.Skin.ERYTHEMA if n % 4 == 1 else HomeSession.Skin.NONE,
            hdss=3 if n < len(days) // 2 else 2,
            logged_at=started + dt.timedelta(days=2 * n, hours=20),
        )
        for n, day in enumerate(days)
    )
    return program
