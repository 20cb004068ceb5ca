from django import forms

from notes import hooks
from notes.models import AdverseEvent, SessionNote
from notes.services import COMMON, DELIVERED


class NoteForm(forms.ModelForm):
    """The shape of a note for one modality; the rules live in notes.services."""

    confirm_out_of_range = forms.BooleanField(
        required=False,
        label="I confirm the values outside the typical range",
        help_text="Needed only when a value is outside the typical range (R7).",
    )
    adverse_kind = forms.ChoiceField(
        choices=[("", "None")] + list(AdverseEvent.Kind.choices), required=False, label="Adverse event"
    )
    adverse_description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What happened"
    )
    adverse_action_taken = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Action taken"
    )

    class Meta:
        model = SessionNote
        fields = list(dict.fromkeys(f for fields in DELIVERED.values() for f in fields)) + list(COMMON)
        widgets = {
            "medication_expiry": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            **{
                name: forms.Textarea(attrs={"rows": 2})
                for name in (
                    "skin_notes",
                    "subjective",
                    "objective",
                    "assessment",
                    "care_plan",
                    "home_instructions",
                )
            },
        }

    def __init__(self, *args, modality: str, appointment=None, **kwargs):
        super().__init__(*args, **kwargs)
        keep = set(DELIVERED[modality]) | set(COMMON)
        for name in list(self.fields):
            if name in self.Meta.fields and name not in keep:
                del self.fields[name]
        # Lot choices from stock (supplies), when the visit is known.
        self.stock_fields: list[str] = []
        if appointment is not None:
            for name, field in hooks.form_fields(
                appointment=appointment, note=self.instance.pk and self.instance
            ).items():
                if name in self.fields or name not in self.Meta.fields:
                    self.fields[name] = field
                    self.stock_fields.append(name)
        for name in ("pain_before", "pain_after"):
            self.fields[name].widget.attrs.update(min=0, max=10)
        self.modality = modality

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            name: data.get(name)
            for name in self.fields
            if name in self.Meta.fields or name in self.stock_fields
        }

    def adverse(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data.get("adverse_kind") or "",
            "description": data.get("adverse_description") or "",
            "action_taken": data.get("adverse_action_taken") or "",
        }

    def delivered_fields(self):
        names = [name for name in DELIVERED[self.modality] if name in self.fields]
        extra = [name for name in self.stock_fields if name not in names]
        # The stock choice comes before the lot it fills in.
        at = names.index("medication_lot") if "medication_lot" in names else len(names)
        return [self[name] for name in names[:at] + extra + names[at:]]

    def check_fields(self):
        return [
            self[name] for name in ("skin_before", "skin_after", "skin_notes", "pain_before", "pain_after")
        ]

    def soap_fields(self):
        return [
            self[name]
            for name in (
                "subjective",
                "objective",
                "assessment",
                "care_plan",
                "home_instructions",
                "timed_minutes",
            )
        ]

    def adverse_fields(self):
        return [self["adverse_kind"], self["adverse_description"], self["adverse_action_taken"]]


class SignForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your password",
        help_text="Signing locks the note; corrections become addenda.",
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Screening override reason",
        help_text="Only when the safety screening is missing, out of date or positive.",
    )


class AddendumForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Addendum")
