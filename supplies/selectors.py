"""Reads: lots on hand, the admin dashboard's stock alerts, and the
economics of signed sessions (per session, per month, per plan). Each runs a
fixed number of queries however many rows there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinic.localtime import local_date, local_day_bounds
from notes.models import SessionNote
from supplies.models import (
    ZERO,
    ExpiredUseAttempt,
    FeeSchedule,
    Lot,
    StockMovement,
    SupplyItem,
    SupplySettings,
)
from treatments.models import Modality

CENT = Decimal("0.01")
NO_PAYER = "No payer recorded"


def cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


# -- stock ----------------------------------------------------------------------------
def items_with_stock() -> QuerySet[SupplyItem]:
    """Items with their total on hand (of lots not expired today) annotated."""
    today = local_date(timezone.now())
    return SupplyItem.objects.select_related("medication").annotate(
        in_stock=Coalesce(
            Sum("lots__on_hand", filter=Q(lots__expiry__gte=today)),
            ZERO,
            output_field=DecimalField(max_digits=11, decimal_places=2),
        )
    )


def stock_alerts(*, today: dt.date | None = None, limit: int = 50) -> dict:
    """Below the reorder level, expiring within the warning window (30 days
    by default), and expired lots a note tried to use (the last 30 days)."""
    today = today or local_date(timezone.now())
    settings = SupplySettings.read()
    low = list(
        items_with_stock()
        .filter(is_active=True, in_stock__lt=F("reorder_level"))
        .order_by("kind", "name")[:limit]
    )
    expiring = list(
        Lot.objects.filter(on_hand__gt=0, expiry__lte=today + dt.timedelta(days=settings.expiry_warning_days))
        .select_related("item")
        .order_by("expiry", "id")[:limit]
    )
    since = timezone.now() - dt.timedelta(days=30)
    attempts = list(
        ExpiredUseAttempt.objects.filter(created_at__gte=since)
        .select_related("lot__item", "user", "appointment__patient")
        .order_by("-created_at", "-id")[:limit]
    )
    return {
        "low_stock": low,
        "expiring_lots": expiring,
        "expired_attempts": attempts,
        "expiry_warning_days": settings.expiry_warning_days,
        "today": today,
    }


# -- economics ------------------------------------------------------------------------
@dataclass
class SessionEconomics:
    note_id: int
    appointment_id: int
    plan_id: int
    date: dt.date
    modality: str
    payer_id: int | None
    payer: str
    cpt_code: str
    units: int
    minutes: int
    supply_cost: Decimal
    time_cost: Decimal
    reimbursement: Decimal
    fee_missing: bool

    @property
    def margin(self) -> Decimal:
        return self.reimbursement - self.supply_cost - self.time_cost


@dataclass
class Totals:
    key: str
    label: str
    sessions: int = 0
    units: int = 0
    supply_cost: Decimal = ZERO
    time_cost: Decimal = ZERO
    reimbursement: Decimal = ZERO
    fee_missing: int = 0
    members: list = field(default_factory=list, repr=False)

    @property
    def margin(self) -> Decimal:
        return self.reimbursement - self.supply_cost - self.time_cost

    def add(self, row: SessionEconomics) -> None:
        self.sessions += 1
        self.units += row.units
        self.supply_cost += row.supply_cost
        self.time_cost += row.time_cost
        self.reimbursement += row.reimbursement
        self.fee_missing += int(row.fee_missing)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "sessions": self.sessions,
            "units": self.units,
            "supply_cost": str(cents(self.supply_cost)),
            "time_cost": str(cents(self.time_cost)),
            "reimbursement": str(cents(self.reimbursement)),
            "margin": str(cents(self.margin)),
            "sessions_without_fee": self.fee_missing,
        }


def fee_on(fees: list[FeeSchedule], *, payer_id: int | None, cpt_code: str, day: dt.date) -> Decimal | None:
    """The payer's fee per unit on the date of service: the newest row valid then."""
    valid = [f for f in fees if f.payer_id == payer_id and f.cpt_code == cpt_code and f.valid_from <= day]
    return max(valid, key=lambda f: f.valid_from).fee_per_unit if valid else None


def session_economics(notes: QuerySet[SessionNote]) -> list[SessionEconomics]:
    """Each signed session's supply cost (what its lots cost: draws less
    returns, with corrections recorded against it), therapist time (the
    visit's booked length at the hourly cost), expected reimbursement
    (billing units × the payer's fee on the date of service) and margin."""
    notes = list(
        notes.filter(status=SessionNote.Status.SIGNED)
        .select_related("appointment__plan", "appointment__patient__payer")
        .order_by("appointment__start", "id")
    )
    if not notes:
        return []
    value = ExpressionWrapper(
        F("quantity") * F("lot__unit_cost"), output_field=DecimalField(max_digits=14, decimal_places=6)
    )
    costs = {
        row["note"]: -row["value"]
        for row in StockMovement.objects.filter(note__in=[n.pk for n in notes])
        .values("note")
        .annotate(value=Sum(value))
    }
    payer_ids = {n.appointment.patient.payer_id for n in notes} - {None}
    fees = list(FeeSchedule.objects.filter(payer_id__in=payer_ids))
    hourly = SupplySettings.read().therapist_hourly_cost
    rows = []
    for note in notes:
        visit = note.appointment
        payer = visit.patient.payer
        day = local_date(visit.start)
        minutes = int((visit.end - visit.start).total_seconds() // 60)
        fee = fee_on(fees, payer_id=payer.pk if payer else None, cpt_code=note.cpt_code, day=day)
        rows.append(
            SessionEconomics(
                note_id=note.pk,
                appointment_id=visit.pk,
                plan_id=visit.plan_id,
                date=day,
                modality=visit.plan.modality,
                payer_id=payer.pk if payer else None,
                payer=payer.name if payer else NO_PAYER,
                cpt_code=note.cpt_code,
                units=note.billing_units,
                minutes=minutes,
                supply_cost=cents(costs.get(note.pk, ZERO)),
                time_cost=cents(hourly * minutes / 60),
                reimbursement=cents((fee or ZERO) * note.billing_units),
                fee_missing=fee is None and note.billing_units > 0,
            )
        )
    return rows


def hourly_cost() -> Decimal:
    return SupplySettings.read().therapist_hourly_cost


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return local_day_bounds(first)[0], local_day_bounds(following)[0]


def monthly_report(*, month: dt.date) -> dict:
    """Signed sessions of a month (clinic time) per modality and per payer."""
    start, end = month_bounds(month)
    rows = session_economics(
        SessionNote.objects.filter(appointment__start__gte=start, appointment__start__lt=end)
    )
    labels = dict(Modality.choices)
    by_modality: dict[str, Totals] = {}
    by_payer: dict[str, Totals] = {}
    total = Totals(key="all", label="All sessions")
    for row in rows:
        by_modality.setdefault(
            row.modality, Totals(key=row.modality, label=labels.get(row.modality, row.modality))
        ).add(row)
        key = str(row.payer_id) if row.payer_id else "none"
        by_payer.setdefault(key, Totals(key=key, label=row.payer)).add(row)
        total.add(row)
    return {
        "month": month.replace(day=1),
        "sessions": rows,
        "by_modality": sorted(by_modality.values(), key=lambda t: t.label),
        "by_payer": sorted(by_payer.values(), key=lambda t: (t.key == "none", t.label)),
        "total": total,
        "therapist_hourly_cost": hourly_cost(),
    }


def plan_economics(*, plan) -> Totals:
    """The course so far: its signed sessions' costs against what they bring in."""
    total = Totals(key=str(plan.pk), label="Course so far")
    for row in session_economics(SessionNote.objects.filter(appointment__plan=plan)):
        total.add(row)
    return total


def default_month() -> dt.date:
    """This month, or the latest month with a signed session when this one
    has none yet (the first days of a month, a fresh demo)."""
    this = local_date(timezone.now()).replace(day=1)
    if SessionNote.objects.filter(
        status=SessionNote.Status.SIGNED, appointment__start__gte=month_bounds(this)[0]
    ).exists():
        return this
    latest = (
        SessionNote.objects.filter(status=SessionNote.Status.SIGNED)
        .order_by("-appointment__start")
        .values_list("appointment__start", flat=True)
        .first()
    )
    return local_date(latest).replace(day=1) if latest else this


def month_of(value: str | None) -> dt.date | None:
    """'2026-03' → 2026-03-01; None when it is not a month."""
    try:
        month = dt.datetime.strptime(value or "", "%Y-%m").date()  # noqa: DTZ007 - a calendar month, no instant
    except ValueError:
        return None
    # Years the clinic can have sessions in (9999-12 would overflow the month's end).
    return month if 1900 <= month.year <= 2999 else None
