from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    folder = str(tmp_path)
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": folder, "data_folder_out": folder}
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_with_the_broker_on_a_closed_port_is_still_200(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 0.5}
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "down"}


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_with_real_redis_is_ok(client, settings, redis_url):
    settings.CELERY_BROKER_URL = redis_url
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1}
    assert client.get(reverse("healthz")).json()["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client):
    with mock.patch("clinic.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "down"
