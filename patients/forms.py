from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from phonenumber_field.formfields import PhoneNumberField

from patients.models import Patient, Screening
from patients.services import DEMOGRAPHIC_FIELDS, PHONE_REGION, SCREENING_FIELDS


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form: field errors next to
    their field, the rest (fields the form lacks) at the top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        target = field if field in form.fields else None
        if target is None and field != NON_FIELD_ERRORS:
            errors = [ValidationError(f"{form_label(form, field)}: {m}") for e in errors for m in e.messages]
        form.add_error(target, errors)


def form_label(form: forms.BaseForm, field: str) -> str:
    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is not None:
        try:
            return str(model._meta.get_field(field).verbose_name).capitalize()
        except FieldDoesNotExist:
            pass
    return field.replace("_", " ").capitalize()


class PatientForm(forms.ModelForm):
    phone = PhoneNumberField(region=PHONE_REGION, required=False, help_text="e.g. 202-555-0143")
    confirm_duplicate = forms.BooleanField(
        required=False, label="This is a different person with the same name and date of birth"
    )

    class Meta:
        model = Patient
        fields = DEMOGRAPHIC_FIELDS
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in DEMOGRAPHIC_FIELDS}


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
