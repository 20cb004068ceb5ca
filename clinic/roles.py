"""Roles are Django groups (made by a migration); one helper answers "may this
user do that" for views, templates and the API alike."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from rest_framework.permissions import BasePermission


class Role(models.TextChoices):
    FRONT_DESK = "front_desk", "Front desk"
    THERAPIST = "therapist", "Therapist"
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"


def _roles(names, user) -> frozenset[str]:
    names = set(names)
    if user.is_superuser:
        names.add(Role.CLINIC_ADMIN)
    return frozenset(name for name in names if name in Role.values)


def roles_of(user) -> frozenset[str]:
    """The user's role names, cached on the user object for the request
    (read with the user by clinic.auth.SessionUserBackend, else here)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_phoresis_roles", None)
    if cached is None:
        cached = _roles(user.groups.values_list("name", flat=True), user)
        user._phoresis_roles = cached
    return cached


def _flag(role: str) -> str:
    return f"_phoresis_in_{role}"


def with_roles(users: models.QuerySet) -> models.QuerySet:
    """Users with their role groups read in the same query (one EXISTS per
    role); `remember_roles` then caches them on each user for roles_of."""
    from django.contrib.auth.models import Group

    return users.annotate(
        **{
            _flag(role): models.Exists(Group.objects.filter(user=models.OuterRef("pk"), name=role))
            for role in Role.values
        }
    )


def remember_roles(user) -> None:
    """Cache the roles a `with_roles` query read (roles_of answers from them)."""
    user._phoresis_roles = _roles((role for role in Role.values if getattr(user, _flag(role))), user)


def has_role(user, *roles: str) -> bool:
    """True when the user holds any of `roles`; clinic admins may do everything."""
    held = roles_of(user)
    return Role.CLINIC_ADMIN in held or any(role in held for role in roles)


def holds_role(user, role: str) -> bool:
    """True only when the user is in `role`'s group: no clinic-admin pass.
    Clinical acts (R20) need a therapist; a clinic admin who treats holds both."""
    return role in roles_of(user)


def role_of(user) -> str | None:
    """The single role shown for a user (the highest they hold)."""
    held = roles_of(user)
    for role in (Role.CLINIC_ADMIN, Role.THERAPIST, Role.FRONT_DESK):
        if role in held:
            return role
    return None


def role_required(*roles: str) -> Callable:
    """Decorator for function views: 403 unless the user has one of `roles`."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def therapist_required(view: Callable) -> Callable:
    """Decorator for the clinical acts of R20 (sign, addendum, screening
    review, override): 403 unless the user is in the therapist group."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not holds_role(request.user, Role.THERAPIST):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


class RoleRequiredMixin(AccessMixin):
    """Class-based views: set `roles = (Role.THERAPIST, ...)`."""

    roles: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, *self.roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class HasRole(BasePermission):
    """DRF permission: `permission_classes = [HasRole.for_roles(Role.THERAPIST)]`."""

    roles: tuple[str, ...] = ()

    @classmethod
    def for_roles(cls, *roles: str) -> type["HasRole"]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *self.roles)


class IsTherapist(BasePermission):
    """DRF permission for R20's clinical acts: the therapist group itself."""

    def has_permission(self, request, view) -> bool:
        return holds_role(request.user, Role.THERAPIST)
