"""clinic.auth.SessionUserBackend: the user of a session comes with their
role groups in the same query, and a change of role counts from the next
request on (the roles are read again with the user each request)."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.auth import SessionUserBackend
from clinic.roles import Role, has_role, holds_role, roles_of

pytestmark = pytest.mark.django_db


def test_the_session_user_brings_their_roles(front_desk, clinic_admin, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    backend = SessionUserBackend()
    for user, roles in [
        (front_desk, {Role.FRONT_DESK}),
        (clinic_admin, {Role.CLINIC_ADMIN}),
        (superuser, {Role.CLINIC_ADMIN}),
    ]:
        with CaptureQueriesContext(connection) as captured:
            loaded = backend.get_user(user.pk)
            assert roles_of(loaded) == roles
        assert len(captured) == 1
    assert backend.get_user(10**9) is None


def test_a_new_role_counts_from_the_next_request(client, front_desk):
    client.force_login(front_desk)
    assert client.get("/api/v1/users/").status_code == 403
    front_desk.groups.set([Group.objects.get(name=Role.CLINIC_ADMIN)])
    assert client.get("/api/v1/users/").status_code == 200
    front_desk.groups.set([Group.objects.get(name=Role.FRONT_DESK)])
    assert client.get("/api/v1/users/").status_code == 403
    front_desk.is_active = False
    front_desk.save()
    assert SessionUserBackend().get_user(front_desk.pk) is None
    assert not has_role(front_desk, Role.FRONT_DESK) and not holds_role(front_desk, Role.FRONT_DESK)
