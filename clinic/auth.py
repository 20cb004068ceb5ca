"""Login protection shared by the pages and the API: django-axes counts
wrong passwords per username (settings.AXES_*), including the password that
re-authenticates a therapist signing a note."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from clinic.roles import remember_roles, with_roles


@cache
def _users_with_roles():
    """Built once per process: resolving the role subqueries took half of
    the user's read (about 1 ms a request). Each read filters a clone; this
    queryset is never evaluated itself."""
    return with_roles(get_user_model()._default_manager.all())


class SessionUserBackend(ModelBackend):
    """Django's ModelBackend, except that the user of a session (read on
    every request) comes with their role groups in the same query: a role
    check costs no query of its own (issue 19)."""

    def get_user(self, user_id):
        users = _users_with_roles()
        try:
            user = users.get(pk=user_id)
        except users.model.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        remember_roles(user)
        return user


def reauthenticate(*, request: HttpRequest, user, password: str, field: str = "password") -> None:
    """Check the signed-in user's own password again (signing a note, R10).

    It goes through `authenticate`, so a wrong password counts toward the
    lockout like a failed login, and a locked-out account cannot sign.
    Raises ValidationError on `field` when the password is not theirs.
    """
    username = user.get_username()
    checked = authenticate(request, username=username, password=password) if password else None
    if checked is None or checked.pk != user.pk:
        if getattr(request, "axes_locked_out", False):
            raise ValidationError({field: "Too many wrong passwords: this account is locked for a while."})
        raise ValidationError({field: "Enter your own password to sign."})


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """How django-axes names a client in its log lines: the user's id (or
    "unknown user"), never the username typed, which may be a person's name."""
    user_id = None
    if username:
        user_id = (
            get_user_model()
            .objects.filter(**{get_user_model().USERNAME_FIELD: username})
            .values_list("pk", flat=True)
            .first()
        )
    who = f"user id {user_id}" if user_id else "unknown user"
    return f"{{{who}, path: {path_info}}}"


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out client sees (settings.AXES_LOCKOUT_CALLABLE): JSON for
    the API, the friendly page elsewhere; 429 either way, no username echoed."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"Too many wrong passwords: this account is locked for {minutes} minutes."
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
