from django import forms
from django.db.models import Q
from phonenumber_field.formfields import PhoneNumberField

from patients.models import Patient, Payer, Screening
from patients.services import DEMOGRAPHIC_FIELDS, PHONE_REGION, SCREENING_FIELDS


class PatientForm(forms.ModelForm):
    phone = PhoneNumberField(region=PHONE_REGION, required=False, help_text="e.g. 202-555-0143")
    emergency_contact_phone = PhoneNumberField(
        region=PHONE_REGION, required=False, label="Emergency contact phone"
    )
    confirm_duplicate = forms.BooleanField(
        required=False, label="I checked: this is a different person from the records listed"
    )

    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.payer_id if self.instance and self.instance.pk else None
        self.fields["payer"].queryset = Payer.objects.filter(Q(is_active=True) | Q(pk=current))

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in DEMOGRAPHIC_FIELDS}


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(
        queryset=Patient.objects.none(),
        label="Keep this record",
        help_text="Plans, visits, screenings, notes and messages move to it; this record stays, inactive.",
    )
    confirm = forms.BooleanField(label="I checked both records: they are the same person")

    def __init__(self, *args, patient: Patient, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = Patient.objects.filter(is_active=True).exclude(pk=patient.pk)
        self.fields["into"].label_from_instance = lambda p: (
            f"{p.last_name}, {p.first_name} — born {p.date_of_birth:%Y-%m-%d}, MRN {p.mrn}"
        )


class PatientSearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search patients",
        help_text="Name, MRN, date of birth (YYYY-MM-DD or MM/DD/YYYY) or phone number",
    )


class ScreeningForm(forms.ModelForm):
    class Meta:
        model = Screening
        fields = SCREENING_FIELDS
        widgets = {
            "drug_allergy_details": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"drug_allergy_details": "Required when the allergy question is yes."}

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in SCREENING_FIELDS}
