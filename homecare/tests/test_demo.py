"""`seed_demo` gives the home program something real to show on first start."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from homecare.models import HomeProgram

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_home_patient_whose_progress_shows_home_hdss(client):
    call_command("seed_demo", stdout=None)
    call_command("seed_demo", stdout=None)  # idempotent
    (program,) = HomeProgram.objects.all()
    assert program.sessions.count() >= 9
    client.force_login(get_user_model().objects.get(username="therapist"))
    response = client.get(reverse("notes:progress", kwargs={"pk": program.plan_id}))
    (section,) = [s["context"] for s in response.context["sections"] if s["key"] == "home"]
    assert {3, 2} <= {p["hdss"] for p in section["points"] if p["source"] == "home"}
    assert client.get(reverse("homecare:program", kwargs={"pk": program.plan_id})).status_code == 200
