from __future__ import annotations

from django import forms
from django.db.models import Q

from clinic.localtime import local_date
from supplies import services
from supplies.access import SUPPLY_ITEM_API
from supplies.models import FeeSchedule, Lot, SupplyItem
from treatments.models import Modality


def note_stock_fields(*, appointment, note) -> dict[str, forms.Field]:
    """The note form's lot choices: lots on hand, not expired on the session
    day (R9), the lot the draft already holds, and the patient's own vial."""
    plan = appointment.plan
    day = local_date(appointment.start)
    held = set(services.drawn_by_note(note))
    fields: dict[str, forms.Field] = {}
    usable = Q(on_hand__gt=0, expiry__gte=day) | Q(pk__in=held)
    if services.uses_drug(plan):
        lots = Lot.objects.filter(
            usable, item__kind=SupplyItem.Kind.DRUG_VIAL, item__medication_id=plan.medication_id
        ).select_related("item")
        choices = [("", "— choose —")]
        choices += [(f"{services.LOT_PREFIX}{lot.pk}", lot.label()) for lot in lots]
        choices.append((services.PATIENT_SUPPLIED, "Patient brought the vial (no stock drawn)"))
        initial = ""
        drug_lot = services.drug_lot_of_note(note)
        if drug_lot is not None:
            initial = f"{services.LOT_PREFIX}{drug_lot.pk}"
        elif note is not None and note.medication_lot:
            initial = services.PATIENT_SUPPLIED
        fields["medication_source"] = forms.ChoiceField(
            choices=choices,
            required=False,
            initial=initial,
            label="Drug from",
            help_text="A lot on hand fills the lot and expiry; for the patient's own vial, type them below.",
        )
    if plan.modality == Modality.IONTOPHORESIS:
        lots = list(Lot.objects.filter(usable, item__kind=SupplyItem.Kind.ELECTRODE).select_related("item"))
        if lots:
            choices = [("", "First to expire on hand")]
            choices += [(lot.lot_number, f"{lot.item.name}: {lot.label()}") for lot in lots]
            current = note.electrode_lot if note is not None else ""
            if current and current not in {value for value, _ in choices}:
                choices.append((current, f"{current} (not from stock)"))
            fields["electrode_lot"] = forms.ChoiceField(
                choices=choices, required=False, label="Electrode lot"
            )
    return fields


class ReceiveForm(forms.Form):
    item = forms.ModelChoiceField(queryset=SupplyItem.objects.filter(is_active=True), label="Item")
    lot_number = forms.CharField(max_length=60, label="Lot number")
    expiry = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Expiry")
    quantity = forms.DecimalField(
        max_digits=9,
        decimal_places=2,
        min_value=0,
        label="Quantity received",
        help_text="In the item's unit: mL for drugs and gel (ten 5 mL vials → 50), pieces for electrodes.",
    )
    unit_cost = forms.DecimalField(
        max_digits=9,
        decimal_places=4,
        min_value=0,
        required=False,
        label="Unit cost",
        help_text="Leave empty for the item's catalog cost.",
    )


class SupplyItemForm(forms.ModelForm):
    class Meta:
        model = SupplyItem
        fields = [name for name in SUPPLY_ITEM_API if name not in ("id", "in_stock")]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == SupplyItem.Kind.DRUG_VIAL:
            if not data.get("medication"):
                self.add_error("medication", "A drug vial names its catalog medication.")
            if data.get("unit") != SupplyItem.Unit.ML:
                self.add_error("unit", "Drug vials are counted in mL.")
        if kind == SupplyItem.Kind.ELECTRODE and not data.get("electrode_type"):
            self.add_error("electrode_type", "Choose the electrode type.")
        return data


class CorrectionForm(forms.Form):
    quantity = forms.DecimalField(
        max_digits=9,
        decimal_places=2,
        label="Change",
        help_text="Negative for stock out, positive for found.",
    )
    reason = forms.CharField(max_length=200, label="Reason")


class FeeForm(forms.ModelForm):
    class Meta:
        model = FeeSchedule
        fields = ["payer", "cpt_code", "fee_per_unit", "valid_from"]
        widgets = {"valid_from": forms.DateInput(attrs={"type": "date"})}
