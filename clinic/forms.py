from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError


class LoginForm(AuthenticationForm):
    """Django's login form; crispy renders it with visible labels."""


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
