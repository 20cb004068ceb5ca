"""Forms of the home program: the patient's (intake, home session) and the
therapist's (program, intake review). Types are checked here; the rules are
in homecare.services."""

from __future__ import annotations

from django import forms

from homecare.models import HDSS_CHOICES, HomeProgram, HomeSession
from patients.screening import ANSWER_FIELDS
from treatments.models import TreatmentPlan

# The screening questions as a patient reads them.
QUESTIONS = {
    "pacemaker": "Do you have a pacemaker, a defibrillator or another electronic implant?",
    "pregnancy": "Are you pregnant, or could you be?",
    "metal_implant_at_site": (
        "Is there metal (plates, screws, a joint replacement) in the area to be treated?"
    ),
    "broken_skin_at_site": "Is the skin in that area broken, cut, irritated or healing?",
    "impaired_sensation": "Is feeling reduced in that area (numbness, tingling)?",
    "malignancy_at_site": "Have you had a cancer or tumour in that area?",
    "infection_or_thrombosis_at_site": (
        "Do you have an infection, a blood clot or vein inflammation in that area?"
    ),
    "epilepsy": "Do you have epilepsy or have you had seizures?",
    "open_growth_plates": "Is the patient a child who is still growing?",
    "drug_allergy": "Are you allergic or sensitive to any medicine, cream or ingredient?",
}
YES_NO = [("no", "No"), ("yes", "Yes")]
HDSS_PATIENT = [("", "I'd rather not say / not sure"), *[(str(v), label) for v, label in HDSS_CHOICES]]


def _yes_no(label: str, initial: str | None = None) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial=initial,
        error_messages={"required": "Please answer yes or no."},
    )


def _hdss(label: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        choices=HDSS_PATIENT,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


class IntakeForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ANSWER_FIELDS:
            self.fields[name] = _yes_no(QUESTIONS[name])
        self.fields["drug_allergy_details"] = forms.CharField(
            label="If yes: which medicine or ingredient?", required=False, max_length=500
        )
        self.fields["hdss"] = _hdss("If you come for excessive sweating: how would you rate it?")
        self.fields["comments"] = forms.CharField(
            label="Anything else your therapist should know? (optional)",
            required=False,
            max_length=2000,
            widget=forms.Textarea(attrs={"rows": 3}),
        )

    def answers(self) -> dict[str, bool]:
        return {name: self.cleaned_data[name] for name in ANSWER_FIELDS}


class HomeSessionForm(forms.Form):
    date = forms.DateField(label="Day of the session", widget=forms.DateInput(attrs={"type": "date"}))
    site = forms.ChoiceField(label="Treated", choices=HomeProgram.Site.choices)
    minutes = forms.IntegerField(label="Minutes of treatment", min_value=1, max_value=600)
    current_ma = forms.DecimalField(
        label="Current the unit showed (mA)", min_value=0, max_value=100, decimal_places=1
    )
    skin_reaction = forms.ChoiceField(
        label="Your skin after the session", choices=HomeSession.Skin.choices, widget=forms.RadioSelect
    )
    hdss = _hdss("Your sweating these days")
    comments = forms.CharField(
        label="Anything to tell your therapist? (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ProgramForm(forms.Form):
    device = forms.CharField(
        label="Home unit", max_length=120, help_text="Make and model of the patient's unit."
    )
    site = forms.ChoiceField(label="Treat", choices=HomeProgram.Site.choices)
    current_ma = forms.DecimalField(label="Current (mA)", max_digits=4, decimal_places=1, min_value=0)
    minutes = forms.IntegerField(label="Minutes per session", min_value=1, max_value=600)
    sessions_per_week = forms.IntegerField(label="Sessions per week", min_value=1, max_value=14)
    polarity_alternation = forms.ChoiceField(
        label="Polarity", choices=TreatmentPlan.PolarityAlternation.choices
    )


class IntakeReviewForm(forms.Form):
    """The patient's answers, as the therapist accepts or corrects them."""

    def __init__(self, *args, intake=None, **kwargs):
        super().__init__(*args, **kwargs)
        answers = intake.answers if intake is not None else {}
        for name in ANSWER_FIELDS:
            self.fields[name] = forms.BooleanField(
                label=QUESTIONS[name], required=False, initial=bool(answers.get(name))
            )
        self.fields["drug_allergy_details"] = forms.CharField(
            label="Allergy details",
            required=False,
            max_length=500,
            initial=intake.drug_allergy_details if intake is not None else "",
        )
        self.fields["notes"] = forms.CharField(
            label="Review notes", required=False, widget=forms.Textarea(attrs={"rows": 2})
        )
