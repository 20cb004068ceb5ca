"""clinic/lookups.py: `field__any=[…]` finds exactly what `field__in=[…]`
finds, as one array parameter on PostgreSQL (the day sheet and the calendar
read their warnings for hundreds of ids this way)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_any_finds_what_in_finds_for_fields_and_foreign_keys():
    users = [UserFactory(role="front_desk") for _ in range(5)]
    wanted = [users[0].pk, users[3].pk, users[3].pk, None, 999_999]
    User = get_user_model()
    assert list(User.objects.filter(pk__any=wanted).order_by("pk")) == list(
        User.objects.filter(pk__in=wanted).order_by("pk")
    )
    assert User.objects.filter(pk__any=[]).count() == 0
    assert User.objects.filter(pk__any=User.objects.filter(pk=users[1].pk).values("pk")).get() == users[1]
    # A foreign key's own column (the user ↔ group rows behind roles).
    memberships = User.groups.through.objects
    mine = memberships.filter(user_id__any=[users[2].pk, users[4].pk])
    assert sorted(mine.values_list("pk", flat=True)) == sorted(
        memberships.filter(user_id__in=[users[2].pk, users[4].pk]).values_list("pk", flat=True)
    )
    assert mine.exists()


@pytest.mark.postgres
def test_on_postgresql_hundreds_of_ids_are_one_parameter():
    ids = list(range(1, 301))
    with CaptureQueriesContext(connection) as ctx:
        list(get_user_model().objects.filter(pk__any=ids).values_list("pk", flat=True))
    (query,) = ctx.captured_queries
    assert "= ANY(" in query["sql"] and query["sql"].count(", ") < 50
