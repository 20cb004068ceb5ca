"""Small page behaviours the browser tests lean on: the booking page opens
without errors, the calendar opens on a date, impossible dates fall back."""

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_client(client, front_desk):
    client.force_login(front_desk)
    return client


def test_booking_page_opens_with_the_next_two_weeks_and_no_errors(desk_client, plan):
    body = desk_client.get(reverse("appointments:book"), {"plan": plan.pk}).content.decode()
    assert "This field is required" not in body
    assert f'value="{timezone.localdate().isoformat()}"' in body
    assert "Choose dates and search to see free slots." in body


def test_date_and_time_inputs_each_have_a_visible_label(desk_client, plan):
    body = desk_client.get(reverse("appointments:series", args=[plan.pk])).content.decode()
    assert 'for="id_start_0"><span class="visually-hidden">First session: </span>Date</label>' in body
    assert 'for="id_start_1"><span class="visually-hidden">First session: </span>Time</label>' in body


def test_calendar_opens_on_the_asked_date_and_ignores_impossible_ones(desk_client):
    body = desk_client.get(reverse("appointments:calendar"), {"date": "2027-03-10"}).content.decode()
    assert 'data-initial-date="2027-03-10"' in body
    response = desk_client.get(reverse("appointments:calendar"), {"date": "2027-02-30"})
    assert response.status_code == 200 and "data-initial-date" not in response.content.decode()


def test_day_sheet_falls_back_to_today_for_an_impossible_date(desk_client):
    response = desk_client.get(reverse("appointments:day"), {"date": "2027-02-30"})
    assert response.status_code == 200
    assert "Today" in response.content.decode()
