"""The day sheet's rows (issue 19): one form for every row's actions, only
the actions that can succeed (check-in on the visit's day, no-show once it
has started), and a light row, so a 300-visit day stays a page a tablet
loads at once. Each test books on a future Monday and travels to it."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from appointments import services
from appointments.models import Appointment
from appointments.tests.factories import DeviceFactory, RoomFactory
from patients.tests.factories import ScreeningFactory
from treatments.tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

# Bytes one row adds to the page. The heaviest row has both buttons (a visit of
# today that has started and is not checked in yet: 300 of them, which only an
# evening nobody checked in would show, make ~180 KB); a day seen ahead of time
# has no buttons, so 300 rows stay within 120 KB with the page around them.
ROW_BUDGET = 620  # + the attendance, authorization and warning includes (empty here)
ROW_BUDGET_NO_ACTIONS = 360


def _book(i, at, therapist, room=None, device=None):
    plan = PlanFactory()
    ScreeningFactory(patient=plan.patient)
    hour, minute = divmod(8 * 60 + 30 * (i % 16), 60)
    return services.appointment_book(
        plan=plan,
        start=at(i // 16, f"{hour:02d}:{minute:02d}"),
        therapist=therapist,
        room=room or RoomFactory(name=f"Treatment room {i}"),
        device=device or DeviceFactory(),
    )


@pytest.fixture
def desk(client, front_desk):
    client.force_login(front_desk)
    return client


@pytest.fixture
def travel(desk, front_desk, time_machine):
    """Move the clock, and log in afresh (an idle session times out)."""

    def go(moment: dt.datetime) -> None:
        time_machine.move_to(moment)
        desk.force_login(front_desk)

    return go


def _sheet(desk, day: dt.date) -> str:
    response = desk.get(reverse("appointments:day"), {"date": day.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


def test_the_actions_share_one_form_whatever_the_rows(desk, at, therapist, travel):
    for i in range(6):
        _book(i, at, therapist)
    travel(at(0, "12:15"))
    body = _sheet(desk, at(0, "00:00").date())
    table = body[body.index("<table") : body.index("</table>")]
    assert "csrfmiddlewaretoken" not in table and "<form" not in table
    assert body.count('<form id="act" method="post"') == 1
    assert body.count('form="act"') == 6 + 6  # six visits, all started: check-in and no-show
    # Each button posts the shared form to its own visit, and the form brings the front desk back.
    first = Appointment.objects.order_by("start").first()
    assert f'formaction="{reverse("appointments:check_in", args=[first.pk])}"' in body
    assert f'formaction="{reverse("appointments:no_show", args=[first.pk])}"' in body
    assert re.search(r'name="next" value="/schedule/day/\?date=', body)


def test_only_actions_that_can_succeed_are_offered(desk, at, therapist, travel):
    early, late = _book(0, at, therapist), _book(8, at, therapist)  # 08:00 and 12:00
    name = early.patient.full_name
    # A day seen ahead of time: nothing to check in yet, nobody missed.
    travel(at(-3, "09:00"))
    ahead = _sheet(desk, at(0, "00:00").date())
    assert "Check in" not in ahead and "No-show" not in ahead
    # On the day, 10:00: both may be checked in; only the 08:00 visit can be a no-show.
    travel(at(0, "10:00"))
    body = _sheet(desk, at(0, "00:00").date())
    assert f'aria-label="Check in {name}"' in body
    assert f'aria-label="Check in {late.patient.full_name}"' in body
    assert f'aria-label="Mark {name} as no-show"' in body
    assert f'aria-label="Mark {late.patient.full_name} as no-show"' not in body
    # Checked in: no more buttons on that row.
    services.appointment_check_in(appointment=early, user=None)
    body = _sheet(desk, at(0, "00:00").date())
    assert f'aria-label="Check in {name}"' not in body and f'aria-label="Mark {name} as no-show"' not in body


def test_the_shared_form_checks_the_patient_in_and_comes_back(desk, at, therapist, travel):
    appointment = _book(0, at, therapist)
    travel(at(0, "07:50"))
    day_url = f"{reverse('appointments:day')}?date={at(0, '00:00').date().isoformat()}"
    body = _sheet(desk, at(0, "00:00").date())
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    action = re.search(r'formaction="([^"]+check-in/)"', body).group(1)
    # What the browser sends when the row's button submits the shared form.
    response = desk.post(action, {"csrfmiddlewaretoken": token, "next": day_url})
    assert response.status_code == 302 and response["Location"] == day_url
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN


def _row_cost(desk, at, therapist, travel, *, now: str, offset: int) -> float:
    """Bytes a visit adds (one room and device for all: the filters' lists stay put)."""
    room, device = RoomFactory(name="Treatment room 14"), DeviceFactory()
    day = at(0, "00:00").date()
    empty = len(_sheet(desk, day).encode())
    for i in range(16):
        _book(i, at, therapist, room, device)
    travel(at(offset, now))
    full = len(_sheet(desk, day).encode())
    return (full - empty) / 16


def test_a_row_with_both_actions_stays_light(desk, at, therapist, travel):
    cost = _row_cost(desk, at, therapist, travel, now="18:00", offset=0)
    assert cost <= ROW_BUDGET, f"{cost:.0f} bytes a row > {ROW_BUDGET}"


def test_a_row_seen_ahead_of_its_day_stays_lighter(desk, at, therapist, travel):
    cost = _row_cost(desk, at, therapist, travel, now="09:00", offset=-3)
    assert cost <= ROW_BUDGET_NO_ACTIONS, f"{cost:.0f} bytes a row > {ROW_BUDGET_NO_ACTIONS}"


def test_the_rows_escape_what_people_typed(desk, at, therapist):
    """The rows are rendered by Jinja2 (clinic/jinja.py): autoescaping on."""
    visit = _book(0, at, therapist, room=RoomFactory(name="Room <i>7</i>"))
    visit.patient.last_name = '<script>alert("x")</script>'
    visit.patient.save(update_fields=["last_name"])
    body = _sheet(desk, at(0, "00:00").date())
    assert "<script>alert" not in body and "Room <i>7</i>" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body and "Room &lt;i&gt;7&lt;/i&gt;" in body
