"""Every write to stock: receiving, corrections, and what each saved note
draws (called by notes through notes.hooks, inside the note's transaction).

Stock moves only through `move`: it locks the lot, refuses a balance below
zero, updates the running `on_hand` and writes the movement row (who, when,
why). Lot locks come after the note → appointment → plan locks
(appointments/locks.py) and, when a note moves several lots, in id order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from clinic.localtime import local_date
from clinic.rule_codes import RuleCode
from notes.models import SessionNote
from patients.models import Payer
from supplies.models import (
    ZERO,
    FeeSchedule,
    Lot,
    StockMovement,
    SupplyItem,
)
from treatments.models import Modality

PATIENT_SUPPLIED = "patient"
LOT_PREFIX = "lot:"


def amount_of(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def move(
    *,
    lot_id: int,
    quantity: Decimal,
    kind: str,
    reason: str,
    user,
    note=None,
    field: str = "quantity",
) -> StockMovement:
    """The one way stock changes. Not atomic itself: it runs in its caller's
    transaction (a note's save, a receipt, a correction)."""
    # Row lock: two notes drawing the last millilitres of one lot take turns,
    # so the second sees what the first left (the check constraint is the last word).
    lot = Lot.objects.select_for_update().select_related("item").get(pk=lot_id)
    if lot.on_hand + quantity < 0:
        raise ValidationError(
            {
                field: ValidationError(
                    f"Lot {lot.lot_number} of {lot.item.name} has {lot.on_hand:g} {lot.item.unit} on hand: "
                    f"not enough for {-quantity:g} {lot.item.unit}. Pick another lot.",
                    code=RuleCode.R9_STOCK,
                )
            }
        )
    Lot.objects.filter(pk=lot.pk).update(on_hand=F("on_hand") + quantity)
    return StockMovement.objects.create(
        lot=lot, kind=kind, quantity=quantity, note=note, reason=reason[:200], created_by=user
    )


@transaction.atomic
def lot_receive(
    *,
    item: SupplyItem,
    lot_number: str,
    expiry: dt.date,
    quantity: Decimal,
    user,
    unit_cost: Decimal | None = None,
    received_on: dt.date | None = None,
) -> Lot:
    """Stock arrives: a new lot, or more of a lot already on the shelf."""
    lot_number = (lot_number or "").strip()
    today = local_date(timezone.now())
    errors: dict[str, str] = {}
    if not lot_number:
        errors["lot_number"] = "Enter the lot number printed on the package."
    if quantity is None or quantity <= 0:
        errors["quantity"] = "Enter how much arrived (more than zero)."
    if expiry is not None and expiry < (received_on or today):
        errors["expiry"] = f"This lot expired on {expiry:%Y-%m-%d}: do not put it on the shelf."
    if not item.is_active:
        errors["item"] = f"{item.name} is no longer stocked."
    cost = item.unit_cost if unit_cost is None else unit_cost
    if cost is not None and cost < 0:
        errors["unit_cost"] = "A cost cannot be negative."
    existing = None
    if lot_number:
        # Row lock: two receipts of one lot add up instead of overwriting each other.
        existing = Lot.objects.select_for_update().filter(item=item, lot_number=lot_number).first()
        if existing is not None and existing.expiry != expiry:
            errors["expiry"] = (
                f"Lot {lot_number} is already on the shelf with expiry {existing.expiry:%Y-%m-%d}; "
                "check the package."
            )
    if errors:
        raise ValidationError(errors)
    if existing is None:
        lot = Lot.objects.create(
            item=item,
            lot_number=lot_number,
            expiry=expiry,
            quantity_received=quantity,
            on_hand=ZERO,
            unit_cost=cost,
            received_at=timezone.now(),
            received_by=user,
        )
    else:
        lot = existing
        Lot.objects.filter(pk=lot.pk).update(quantity_received=F("quantity_received") + quantity)
    move(lot_id=lot.pk, quantity=quantity, kind=StockMovement.Kind.RECEIPT, reason="Received", user=user)
    lot.refresh_from_db()
    return lot


@transaction.atomic
def stock_correct(*, lot: Lot, quantity: Decimal, reason: str, user, note=None) -> StockMovement:
    """A counted difference, a broken vial, or a signed note's correction
    (recorded with an addendum): its own movement with its reason."""
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why the stock changes (e.g. 'vial broken', 'addendum of 3 March')."
    if quantity is None or quantity == 0:
        errors["quantity"] = "Enter the change: negative for stock out, positive for stock found."
    if errors:
        raise ValidationError(errors)
    return move(
        lot_id=lot.pk,
        quantity=quantity,
        kind=StockMovement.Kind.CORRECTION,
        reason=reason,
        user=user,
        note=note,
    )


@transaction.atomic
def fee_set(*, payer: Payer, cpt_code: str, fee_per_unit: Decimal, valid_from: dt.date) -> FeeSchedule:
    """A payer's fee per unit from a date on; the same date again replaces it."""
    errors = {}
    if cpt_code not in FeeSchedule.Code.values:
        errors["cpt_code"] = "Fees are kept for 97033 and 97035."
    if fee_per_unit is None or fee_per_unit < 0:
        errors["fee_per_unit"] = "Enter a fee of zero or more."
    if valid_from is None:
        errors["valid_from"] = "Enter the date the fee applies from."
    if errors:
        raise ValidationError(errors)
    fee, _ = FeeSchedule.objects.update_or_create(
        payer=payer, cpt_code=cpt_code, valid_from=valid_from, defaults={"fee_per_unit": fee_per_unit}
    )
    return fee


# -- what a note draws (notes.hooks) ------------------------------------------------
def uses_drug(plan) -> bool:
    return bool(plan.medication_id and plan.medication.is_drug and plan.modality != Modality.TAP_WATER)


def session_day(appointment) -> dt.date:
    return local_date(appointment.start)


def drawn_by_note(note) -> dict[int, Decimal]:
    """What a note holds from each lot now (draws less what was given back)."""
    if note is None or note.pk is None:
        return {}
    rows = (
        StockMovement.objects.filter(note=note)
        .exclude(kind=StockMovement.Kind.CORRECTION)
        .values("lot")
        .annotate(total=Sum("quantity"))
    )
    return {row["lot"]: -row["total"] for row in rows if row["total"]}


def drug_lot_of_note(note) -> Lot | None:
    held = drawn_by_note(note)
    if not held:
        return None
    return (
        Lot.objects.select_related("item").filter(pk__in=held, item__kind=SupplyItem.Kind.DRUG_VIAL).first()
    )


def stocks_medication(medication_id: int) -> bool:
    return Lot.objects.filter(
        item__kind=SupplyItem.Kind.DRUG_VIAL, item__medication_id=medication_id
    ).exists()


def drug_source(*, plan, note, values: Mapping[str, Any]) -> tuple[str, Lot | None, str]:
    """(source, lot, error field): source is "lot", "patient" or "" (none said)."""
    field = "medication_stock_lot"
    lot_id = None
    if "medication_source" in values:
        field = "medication_source"
        raw = values.get("medication_source") or ""
        if raw == PATIENT_SUPPLIED:
            return PATIENT_SUPPLIED, None, field
        if raw.startswith(LOT_PREFIX) and raw[len(LOT_PREFIX) :].isdigit():
            lot_id = int(raw[len(LOT_PREFIX) :])
    else:
        if values.get("medication_patient_supplied"):
            return PATIENT_SUPPLIED, None, field
        lot_id = values.get("medication_stock_lot")
    if lot_id is not None:
        lot = Lot.objects.select_related("item").filter(pk=lot_id).first()
        if (
            lot is None
            or lot.item.kind != SupplyItem.Kind.DRUG_VIAL
            or lot.item.medication_id != plan.medication_id
        ):
            raise ValidationError(
                {
                    field: ValidationError(
                        f"That lot is not a lot of {plan.medication}.", code=RuleCode.R9_STOCK_LOT
                    )
                }
            )
        return "lot", lot, field
    if field == "medication_stock_lot" and values.get("medication_patient_supplied") is None:
        # Nothing said (an API client from before stock): the note's own lot
        # number names a lot on the shelf, or what it drew before stays.
        number = (values.get("medication_lot") or "").strip()
        if number:
            lot = (
                Lot.objects.select_related("item")
                .filter(
                    item__kind=SupplyItem.Kind.DRUG_VIAL,
                    item__medication_id=plan.medication_id,
                    lot_number=number,
                )
                .first()
            )
            if lot is not None:
                return "lot", lot, field
            if note is not None and note.pk and note.medication_lot == number and not drawn_by_note(note):
                return PATIENT_SUPPLIED, None, field
    return "", None, field


def first_to_expire(*, queryset, day: dt.date, needed: Decimal) -> Lot | None:
    """First expiring, first out: the lot on hand that expires soonest."""
    return (
        queryset.filter(expiry__gte=day, on_hand__gte=needed)
        .select_related("item")
        .order_by("expiry", "id")
        .first()
    )


def visit_voided(*, appointment, user=None) -> None:
    """A visit cancelled or marked a no-show: its draft note gives back all
    it drew. Lots are locked after the visit (the order of
    appointments/locks.py); the note row is read, not locked."""
    note = SessionNote.objects.filter(appointment_id=appointment.pk).first()
    if note is None or note.is_signed:
        return
    why = "Visit cancelled" if appointment.status == "cancelled" else "Visit marked a no-show"
    for lot_id, held in sorted(drawn_by_note(note).items()):
        if held > 0:
            move(
                lot_id=lot_id,
                quantity=held,
                kind=StockMovement.Kind.RETURN,
                reason=f"{why}: draft note voided (visit {appointment.pk})",
                user=user if getattr(user, "pk", None) else None,
                note=note,
            )
