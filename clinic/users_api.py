"""`/api/v1/users/`: staff accounts and their role (clinic admins only)."""

from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from rest_framework import serializers, viewsets
from rest_framework.routers import DefaultRouter

from clinic.access import AdminPermission
from clinic.roles import Role, role_of


class RoleField(serializers.ChoiceField):
    """The user's role, read from their groups (a User has no `role` attribute)."""

    def get_attribute(self, instance):
        return role_of(instance)


class UserSerializer(serializers.ModelSerializer):
    role = RoleField(choices=Role.choices, allow_null=True)
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "role", "is_active", "password"]

    def validate(self, attrs):
        password = attrs.get("password")
        if self.instance is None and not password:
            # A message, not a password.
            raise serializers.ValidationError({"password": "A new user needs a password."})  # nosec B105
        if password:
            candidate = self.instance or User(
                username=attrs.get("username", ""), email=attrs.get("email", "")
            )
            try:
                validate_password(password, candidate)
            except Exception as exc:  # Django's ValidationError → field error
                raise serializers.ValidationError(
                    {"password": list(getattr(exc, "messages", [str(exc)]))}
                ) from exc
        return attrs

    @transaction.atomic
    def save(self, **kwargs):
        role = self.validated_data.pop("role", None)
        password = self.validated_data.pop("password", None)
        user = super().save(**kwargs)
        if password:
            user.set_password(password)
        user.is_staff = role == Role.CLINIC_ADMIN if role else user.is_staff
        user.save()
        if role:
            user.groups.remove(*Group.objects.filter(name__in=Role.values))
            user.groups.add(Group.objects.get(name=role))
            user._phoresis_roles = None
        return user


class UserViewSet(viewsets.ModelViewSet):
    serializer_class = UserSerializer
    permission_classes = [AdminPermission]
    queryset = User.objects.prefetch_related("groups").order_by("username")
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


def register(router: DefaultRouter) -> None:
    router.register("users", UserViewSet, basename="user")
