import json

from django import forms
from django.db.models import Q

from clinic.models import ClinicRules
from patients.models import Payer
from treatments import rules as parameter_rules
from treatments.authorizations import AUTHORIZATION_FIELDS
from treatments.models import Authorization, Medication, Modality, TreatmentPlan
from treatments.services import PLAN_FIELDS


class MedicationSelect(forms.Select):
    """Each option names its modalities, so plan_form.js can offer only the
    medications of the chosen modality."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        medication = getattr(value, "instance", None)
        if medication is not None:
            option["attrs"]["data-modalities"] = " ".join(medication.modalities)
        return option


def _setting(label: str, values: tuple[int, ...], unit: str, help_text: str) -> forms.TypedChoiceField:
    """A device setting offered as its discrete values (the rule lists them)."""
    return forms.TypedChoiceField(
        label=label,
        coerce=int,
        empty_value=None,
        required=False,
        choices=[("", "---------"), *((v, f"{v} {unit}") for v in values)],
        help_text=help_text,
    )


class PlanForm(forms.ModelForm):
    """Shape only; the rules (R7, R8, medication fits) run in the service."""

    frequency_mhz = _setting(
        "Frequency (MHz)",
        parameter_rules.FREQUENCIES_MHZ,
        "MHz",
        "1 MHz deep (~2–5 cm), 3 MHz superficial (~1–2 cm).",
    )
    duty_cycle_pct = _setting(
        "Duty cycle (%)",
        parameter_rules.DUTY_CYCLES_PCT,
        "%",
        "100 % continuous; pulsed 20 % or 50 % limits heat.",
    )
    confirm_out_of_range = forms.BooleanField(
        required=False, label="I confirm the values outside the typical range"
    )

    class Meta:
        model = TreatmentPlan
        fields = PLAN_FIELDS
        widgets = {
            "prescription_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "medication": MedicationSelect,
        }

    def __init__(self, *args, rules: ClinicRules, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.medication_id
        medications = Medication.objects.filter(is_active=True)
        if current:
            medications = Medication.objects.filter(is_active=True) | Medication.objects.filter(pk=current)
        self.fields["medication"].queryset = medications.order_by("name", "concentration")
        self.fields[
            "medication"
        ].help_text = (
            "Iontophoresis and phonophoresis need a drug; tap water none (leave empty or choose tap water)."
        )
        self.fields["modality"].widget.attrs.update(
            {
                "data-session-minutes": json.dumps(parameter_rules.DEFAULT_SESSION_MINUTES),
                "data-min-interval-hours": json.dumps(
                    {m: parameter_rules.default_min_interval_hours(m, rules) for m in Modality.values}
                ),
            }
        )
        if self.instance.pk and self.instance.status != TreatmentPlan.Status.DRAFT:
            self.fields["modality"].disabled = True
            self.fields["modality"].help_text = "Only a draft plan can change its modality."
        self.fields["session_minutes"].required = False
        self.fields[
            "session_minutes"
        ].help_text = "Leave empty for the modality's default (30 / 20 / 40 min)."
        self.fields["min_interval_hours"].required = False
        self.fields["min_interval_hours"].help_text = (
            f"Leave empty for the modality's default ({rules.ionto_min_interval_hours} h iontophoresis, "
            f"{rules.phono_min_interval_hours} h phonophoresis, {rules.tap_min_interval_hours} h tap water)."
        )
        fmt, r = parameter_rules.fmt, rules
        helps = {
            "dose_ma_min": (
                f"Typical {fmt(r.ionto_dose_typical_min)}–{fmt(r.ionto_dose_typical_max)}; "
                f"at most {fmt(r.ionto_dose_max_ma_min)}. Time = dose ÷ current."
            ),
            "current_ma": (
                f"Iontophoresis {fmt(r.ionto_current_min_ma)}–{fmt(r.ionto_current_max_ma)} mA; "
                f"tap water typical {fmt(r.tap_current_typical_min)}–{fmt(r.tap_current_typical_max)}, "
                f"at most {fmt(r.tap_current_max_ma)} mA."
            ),
            "polarity": (
                "Follows the drug's charge (dexamethasone negative, lidocaine positive); "
                "empty takes the drug's."
            ),
            "intensity_w_cm2": (
                f"Typical {fmt(r.us_intensity_typical_min)}–{fmt(r.us_intensity_typical_max)}; "
                f"device range {fmt(r.us_intensity_min)}–{fmt(r.us_intensity_max)} W/cm²."
            ),
            "treatment_minutes": (
                f"Ultrasound typical {r.us_minutes_typical_min}–{r.us_minutes_typical_max} "
                f"(at most {r.us_minutes_max}); tap water {r.tap_minutes_min}–{r.tap_minutes_max} "
                f"(hands ~20, feet ~30)."
            ),
            "maintenance_interval_days": "Once sweating stops: from twice a week to every 2–4 weeks.",
        }
        for name, text in helps.items():
            self.fields[name].help_text = text
        for name in ("dose_ma_min", "current_ma", "intensity_w_cm2"):
            self.fields[name].widget.attrs.setdefault("step", "0.1")

    def modality_groups(self) -> list[dict]:
        """The modality-specific fields, each with the modalities it serves
        (all visible without JavaScript)."""
        fields = ["medication", *parameter_rules.ALL_PARAMETERS]
        serves = {name: parameter_rules.modalities_using(name) for name in parameter_rules.ALL_PARAMETERS}
        serves["medication"] = [Modality.IONTOPHORESIS, Modality.PHONOPHORESIS, Modality.TAP_WATER]
        return [
            {
                "field": self[name],
                "modalities": " ".join(serves[name]),
                "labels": ", ".join(Modality(m).label for m in serves[name]),
            }
            for name in fields
        ]

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in PLAN_FIELDS}
        if self.fields["modality"].disabled:
            data.pop("modality")
        return data


class OverrideForm(forms.Form):
    """Activation and resumption: the R6 gate, or an override with a reason."""

    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Override reason",
        help_text="Only when the screening does not allow the plan: why it is safe to go ahead anyway.",
    )


class StatusReasonForm(forms.Form):
    reason = forms.CharField(required=False, max_length=200, label="Reason")


class MedicationForm(forms.ModelForm):
    modalities = forms.MultipleChoiceField(
        choices=Modality.choices, widget=forms.CheckboxSelectMultiple, label="Modalities"
    )

    class Meta:
        model = Medication
        fields = [
            "name",
            "concentration",
            "polarity",
            "modalities",
            "is_drug",
            "max_volume_ml",
            "is_active",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        labels = {"polarity": "Ionic charge", "is_drug": "Is a drug", "is_active": "Offered for new plans"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields.pop("is_active", None)  # a new entry is active

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class MaintenanceForm(forms.Form):
    interval_days = forms.IntegerField(
        min_value=1,
        label="Maintenance interval (days)",
        help_text="Days between maintenance sessions, typically 7–28 (R21).",
    )


class AuthorizationForm(forms.ModelForm):
    class Meta:
        model = Authorization
        fields = AUTHORIZATION_FIELDS
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        labels = {"valid_from": "Valid from", "valid_to": "Valid through", "visits_authorized": "Visits"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.payer_id if self.instance and self.instance.pk else None
        self.fields["payer"].queryset = Payer.objects.filter(Q(is_active=True) | Q(pk=current))

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in AUTHORIZATION_FIELDS}
