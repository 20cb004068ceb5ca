"""The hooks notes call (notes.hooks.StockHooks): what a saved draft draws,
what an edit gives back, the note form's lot choices, and the record of an
expired lot tried (R9)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from clinic.rule_codes import RuleCode, codes_of
from supplies import services
from supplies.forms import note_stock_fields
from supplies.models import ZERO, ExpiredUseAttempt, Lot, StockMovement, SupplyItem, SupplySettings
from treatments.models import Modality


class NoteStock:
    """The hooks notes call (notes.hooks.StockHooks)."""

    def prepare(self, *, appointment, note, values: Mapping[str, Any]) -> dict[str, Any]:
        plan = appointment.plan
        values = dict(values)
        day = services.session_day(appointment)
        draws: dict[int, Decimal] = {}
        fields: dict[int, str] = {}
        if services.uses_drug(plan):
            source, lot, field = services.drug_source(plan=plan, note=note, values=values)
            if source == "lot":
                # The lot fills the note's R9 record; an expired one is refused there (R9.expired).
                values["medication_lot"] = lot.lot_number
                values["medication_expiry"] = lot.expiry
                volume = services.amount_of(values.get("medication_volume_ml"))
                if volume is not None and volume > 0:
                    draws[lot.pk] = volume
                    fields[lot.pk] = "medication_volume_ml"
            elif source == "" and services.stocks_medication(plan.medication_id):
                raise ValidationError(
                    {
                        field: ValidationError(
                            f"Pick the lot of {plan.medication} you used from those on hand, "
                            "or record that the patient brought the vial.",
                            code=RuleCode.R9_SOURCE,
                        )
                    }
                )
        if plan.modality == Modality.IONTOPHORESIS and values.get("electrode_type"):
            electrodes = Lot.objects.filter(item__kind=SupplyItem.Kind.ELECTRODE)
            number = (values.get("electrode_lot") or "").strip()
            lot = None
            if number:
                lot = electrodes.select_related("item").filter(lot_number=number).order_by("-expiry").first()
                if lot is not None and lot.expiry < day:
                    raise ValidationError(
                        {
                            "electrode_lot": ValidationError(
                                f"Electrode lot {lot.lot_number} expired on {lot.expiry:%Y-%m-%d}: "
                                "do not use it.",
                                code=RuleCode.R9_EXPIRED,
                            )
                        }
                    )
            else:
                held = set(services.drawn_by_note(note))
                lot = services.first_to_expire(
                    queryset=electrodes.filter(item__electrode_type=values["electrode_type"]),
                    day=day,
                    needed=Decimal(1),
                )
                lot = electrodes.filter(pk__in=held).select_related("item").first() or lot
                if lot is not None:
                    values["electrode_lot"] = lot.lot_number
            if lot is not None:
                draws[lot.pk] = draws.get(lot.pk, ZERO) + Decimal(1)
                fields[lot.pk] = "electrode_lot"
        if plan.modality == Modality.PHONOPHORESIS:
            amount = SupplySettings.read().gel_ml_per_session
            gels = Lot.objects.filter(item__kind=SupplyItem.Kind.GEL)
            held = gels.filter(pk__in=set(services.drawn_by_note(note))).first()
            lot = held or services.first_to_expire(queryset=gels, day=day, needed=amount)
            if lot is not None and amount > 0:
                draws[lot.pk] = draws.get(lot.pk, ZERO) + amount
                fields[lot.pk] = "coupling_medium"
        values["_stock_draws"] = draws
        values["_stock_fields"] = fields
        return values

    def saved(self, *, note, values: Mapping[str, Any], user) -> None:
        wanted: dict[int, Decimal] = values.get("_stock_draws") or {}
        fields: dict[int, str] = values.get("_stock_fields") or {}
        held = services.drawn_by_note(note)
        day = services.session_day(note.appointment)
        for lot_id in sorted(set(wanted) | set(held)):
            change = held.get(lot_id, ZERO) - wanted.get(lot_id, ZERO)
            if change < 0:
                services.move(
                    lot_id=lot_id,
                    quantity=change,
                    kind=StockMovement.Kind.DRAW,
                    reason=f"Session of {day:%Y-%m-%d} (visit {note.appointment_id})",
                    user=user,
                    note=note,
                    field=fields.get(lot_id, "medication_volume_ml"),
                )
            elif change > 0:
                services.move(
                    lot_id=lot_id,
                    quantity=change,
                    kind=StockMovement.Kind.RETURN,
                    reason=f"Draft note of {day:%Y-%m-%d} edited (visit {note.appointment_id})",
                    user=user,
                    note=note,
                )

    def refused(self, *, appointment, values: Mapping[str, Any], user, error: ValidationError) -> None:
        if RuleCode.R9_EXPIRED not in codes_of(error) or user is None or not getattr(user, "pk", None):
            return
        plan = appointment.plan
        day = services.session_day(appointment)
        lots = []
        try:
            if services.uses_drug(plan):
                source, lot, _ = services.drug_source(plan=plan, note=None, values=values)
                lots.append(lot)
        except ValidationError:
            pass
        number = (values.get("electrode_lot") or "").strip()
        if number:
            lots.append(Lot.objects.filter(item__kind=SupplyItem.Kind.ELECTRODE, lot_number=number).first())
        for lot in lots:
            if lot is not None and lot.expiry < day:
                ExpiredUseAttempt.objects.create(
                    lot=lot, appointment=appointment, session_date=day, user=user
                )

    def form_fields(self, *, appointment, note) -> dict[str, Any]:
        return note_stock_fields(appointment=appointment, note=note)
