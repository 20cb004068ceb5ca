"""API plumbing shared by every app: error mapping and the token endpoint."""

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS as DJANGO_NON_FIELD
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from clinic.access import FieldPolicy
from clinic.auth import lockout_response
from clinic.exceptions import Locked, SchedulingConflict
from clinic.rule_codes import codes_of

NON_FIELD = "non_field_errors"


def _field_key(field: str) -> str:
    # Django's NON_FIELD_ERRORS ("__all__") is a form's word; the API's is DRF's.
    return NON_FIELD if field == DJANGO_NON_FIELD else field


def _django_error_detail(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {
            _field_key(field): [m for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {NON_FIELD: exc.messages}


def error_body(data) -> dict:
    """Every error body is an object: `{"field": [...]}` or `{"detail": "..."}`
    (plus `conflicts`, `codes`); a bare list or string becomes
    `non_field_errors` / `detail`, Django's `__all__` becomes `non_field_errors`."""
    if isinstance(data, list):
        return {NON_FIELD: data}
    if isinstance(data, str):
        return {"detail": data}
    if isinstance(data, dict):
        body = {_field_key(k): v for k, v in data.items()}
        return {
            k: ([v] if k not in ("detail", "codes", "conflicts") and isinstance(v, str) else v)
            for k, v in body.items()
        }
    return {"detail": str(data)}


def _with_codes(body: dict, exc: DjangoValidationError) -> dict:
    codes = codes_of(exc)
    return {**body, "codes": codes} if codes else body


def exception_handler(exc, context):
    """Services raise Django's ValidationError; the API answers 400 with field
    errors, or 409 with the conflicts for a resource already taken. A broken
    rule adds `codes`, its stable codes (clinic.rule_codes)."""
    if isinstance(exc, Locked):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, SchedulingConflict):
        body = {"detail": " ".join(exc.messages), "conflicts": exc.conflicts}
        body.update(_django_error_detail(exc) if hasattr(exc, "error_dict") else {})
        return Response(_with_codes(body, exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(_with_codes(_django_error_detail(exc), exc))
    elif isinstance(exc, PermissionDenied):
        return Response({"detail": "You do not have permission to do this."}, status=403)
    elif isinstance(exc, OverflowError):
        # The last line behind the fields' own range checks (clinic.localtime):
        # a value the server cannot represent is the client's error, not ours.
        return Response({"detail": "A date or number is out of the range the clinic can store."}, status=400)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = error_body(response.data)
    return response


class TokenView(ObtainAuthToken):
    """POST {"username", "password"} → {"token"}. Wrong passwords count toward
    the account lockout (django-axes, via `authenticate`); a locked account
    gets 429 even with the right password."""

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except ValidationError:
            # axes flags the request it was given: DRF's, or Django's underneath.
            if getattr(request, "axes_locked_out", False) or getattr(
                request._request, "axes_locked_out", False
            ):
                return lockout_response(request._request)
            raise


class StrictBooleanField(forms.NullBooleanField):
    TRUE = {"true", "1", "yes", "on"}
    FALSE = {"false", "0", "no", "off"}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError("Enter true or false.", code="invalid")

    def validate(self, value):
        pass


class RoleScopedFieldsMixin:
    """A serializer whose fields follow a `FieldPolicy` (clinic.access): a
    reader outside the policy's full roles gets only its shared fields. The
    reader is the request's user; without a request nothing clinical goes
    out (fail closed), so views pass `context={"request": request}`."""

    field_policy: FieldPolicy
    # OpenAPI component name → policy: the schema marks hidden fields optional.
    scoped_components: dict[str, FieldPolicy] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        policy = getattr(cls, "field_policy", None)
        if policy is not None:
            RoleScopedFieldsMixin.scoped_components[cls.__name__.removesuffix("Serializer")] = policy

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if self.field_policy.sees_all(user):
            return data
        return {name: data[name] for name in self.field_policy.readable(user, data)}


class StrictBooleanFilter(django_filters.BooleanFilter):
    """`?active=true|false` (also 1/0, yes/no); any other value is a 400 with
    the filter's error, never silently ignored (django-filter's default)."""

    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        # django-filter's BooleanWidget turns anything unknown into "no filter".
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)
