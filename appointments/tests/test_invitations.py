"""The calendar invitation read by two independent parsers: Mozilla's
ical.js (the one inside Thunderbird, vendored under tests/js/ and run with
the machine's Node.js) and python's vobject. Each must resolve the visit to
the UTC instant the database holds, on every day of two years, in a
northern and a southern zone; and neither may see a request for a reply."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vobject

from appointments import reminders, services
from appointments.models import Reminder
from appointments.reminders.content import invitation
from appointments.reminders.vtimezone import transitions, vtimezone
from appointments.tests.reminders_support import outbox_messages, reminder_id, scan_outbox_fixture  # noqa: F401
from clinic.localtime import local_datetime
from scripts.services import in_ci

JS = Path(__file__).parent / "js"
ZONES = ["America/New_York", "Australia/Sydney"]
DAYS = 731  # two years, every day


def node() -> str:
    found = shutil.which("node")
    if not found:
        if in_ci():
            pytest.fail("Node.js is needed for the ical.js check (CI=true)")
        pytest.skip("Node.js is not installed")
    return found


def ical_js(texts: list[str]) -> list[dict]:
    """Every text through ical.js in one Node process."""
    done = subprocess.run(
        [node(), str(JS / "resolve_ics.cjs")],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def by_vobject(text: str) -> dict:
    calendar = vobject.readOne(text)
    event = calendar.vevent
    return {
        "start": event.dtstart.value.astimezone(dt.UTC),
        "end": event.dtend.value.astimezone(dt.UTC),
        "method": calendar.method.value,
        "attendees": len(event.contents.get("attendee", [])),
        "uid": event.uid.value,
        "sequence": int(event.sequence.value),
        "status": event.status.value,
    }


def ics_text(raw: bytes) -> str:
    return raw.decode()


@pytest.mark.parametrize("zone", ZONES)
def test_both_parsers_resolve_10_00_local_on_every_day_of_two_years(zone, settings):
    settings.CLINIC_TIME_ZONE = zone
    first = dt.date.today()
    days = [first + dt.timedelta(days=n) for n in range(DAYS)]
    expected, texts = [], []
    for day in days:
        start = local_datetime(day, dt.time(10))  # what the database stores
        texts.append(
            ics_text(
                invitation(uid=f"u-{day}", sequence=0, start=start, end=start + dt.timedelta(minutes=30))
            )
        )
        expected.append(start.astimezone(dt.UTC))
    js = ical_js(texts)
    wrong_js = [
        (day, dt.datetime.fromtimestamp(got["start"], dt.UTC))
        for day, want, got in zip(days, expected, js, strict=True)
        if got["start"] != int(want.timestamp()) or got["tzid"] != zone
    ]
    wrong_vobject = []
    for day, want, text in zip(days, expected, texts, strict=True):
        got = by_vobject(text)
        if got["start"] != want or got["end"] != want + dt.timedelta(minutes=30):
            wrong_vobject.append((day, got["start"]))
    assert not wrong_js, f"ical.js is wrong on {len(wrong_js)} days, e.g. {wrong_js[:3]}"
    assert not wrong_vobject, f"vobject is wrong on {len(wrong_vobject)} days, e.g. {wrong_vobject[:3]}"
    # The days around every change really were in the sample.
    changes = {
        t.at.date() for year in range(first.year, first.year + 3) for t in transitions(ZoneInfo(zone), year)
    }
    assert len([d for d in days if d in changes]) >= 3


@pytest.mark.parametrize("zone", ZONES)
def test_the_vtimezone_is_two_yearly_rules_starting_at_a_real_change(zone):
    text = vtimezone(zone, 2027)
    assert text.count("RRULE:FREQ=YEARLY") == 2
    assert "RDATE" not in text
    daylight = text.split("BEGIN:DAYLIGHT")[1].split("END:DAYLIGHT")[0]
    # The onset at the wall time before the jump: 02:00 in both zones.
    assert "T020000" in daylight
    if zone == "America/New_York":
        assert "BYMONTH=3;BYDAY=2SU" in daylight and "TZOFFSETFROM:-0500" in daylight
    else:
        assert "BYMONTH=10;BYDAY=1SU" in daylight and "TZOFFSETTO:+1100" in daylight


def test_a_zone_without_daylight_time_has_one_observance():
    text = vtimezone("America/Phoenix", 2027)
    assert text.count("BEGIN:STANDARD") == 1 and "DAYLIGHT" not in text and "TZOFFSETTO:-0700" in text


@pytest.mark.django_db
@pytest.mark.usefixtures("scan_outbox")
@pytest.mark.parametrize("zone", ZONES)
def test_booked_moved_and_cancelled_invitations_ask_for_no_reply_and_update_by_uid(
    zone, settings, therapist, room, device, at, plan
):
    """Through the real booking and sending path: the invitations each parser
    reads carry no ATTENDEE, METHOD:PUBLISH then CANCEL, one UID, a growing
    SEQUENCE, and the instant of the appointment row."""
    settings.CLINIC_TIME_ZONE = zone
    settings.CLINIC_EMAIL = "frontdesk@clinic.example"
    appointment = services.appointment_book(plan=plan, start=at(0, "10:00"), therapist=therapist)
    reminders.reminders_sweep()
    appointment = services.appointment_reschedule(appointment=appointment, start=at(2, "14:30"))
    reminders.reminders_sweep()
    moved_start = appointment.start
    services.appointment_cancel(appointment=appointment, reason="Patient ill")
    reminders.reminders_sweep()
    texts, kinds, starts = [], [], []
    for message in outbox_messages():
        row = Reminder.objects.get(pk=reminder_id(message))
        (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        assert part.get_param("method") in ("PUBLISH", "CANCEL")
        texts.append(part.get_content())
        kinds.append(row.kind)
        starts.append(row.slot_start)
    assert kinds == ["confirmation", "rescheduled", "cancellation"]
    assert starts[1] == moved_start
    js = ical_js(texts)
    for kind, start, text, got_js in zip(kinds, starts, texts, js, strict=True):
        got_vo = by_vobject(text)
        method = "CANCEL" if kind == "cancellation" else "PUBLISH"
        for got in (got_js, got_vo):
            assert got["method"] == method
            assert got["attendees"] == 0  # nothing to RSVP
            assert got["uid"] == f"appointment-{appointment.pk}@127.0.0.1"
        assert got_js["start"] == int(start.timestamp()) and got_vo["start"] == start
        assert got_js["sequence"] == got_vo["sequence"]
        assert (got_js["status"], got_vo["status"]) == (
            ("CANCELLED",) * 2 if kind == "cancellation" else ("CONFIRMED",) * 2
        )
    sequences = [by_vobject(t)["sequence"] for t in texts]
    assert sequences == sorted(set(sequences))
    assert "ORGANIZER;CN=" in texts[0] and "mailto:frontdesk@clinic.example" in texts[0]


def test_the_check_catches_the_old_dated_vtimezone(settings):
    """The harness would have failed before: icalendar's generated VTIMEZONE
    (dated transitions, onset at 03:00) puts 10:00 EST an hour off in ical.js
    in the days before the change, as reported for Fri 12 Mar 2027."""
    import icalendar

    zone = ZoneInfo("America/New_York")
    texts, expected = [], []
    for day in (dt.date(2027, 3, 12), dt.date(2027, 6, 1)):
        start = dt.datetime.combine(day, dt.time(10), zone)
        event = icalendar.Event()
        event.add("uid", "old")
        event.add("dtstart", start)
        event.add("dtend", start + dt.timedelta(minutes=30))
        event.add("dtstamp", start)
        calendar = icalendar.Calendar()
        calendar.add("prodid", "-//test//EN")
        calendar.add("version", "2.0")
        calendar.add_component(event)
        calendar.add_missing_timezones(
            first_date=day - dt.timedelta(days=366), last_date=day + dt.timedelta(days=366)
        )
        texts.append(calendar.to_ical().decode())
        expected.append(int(start.timestamp()))
    march, june = ical_js(texts)
    assert march["start"] - expected[0] == -3600  # 14:00Z instead of 15:00Z
    assert june["start"] == expected[1]


def test_text_is_escaped_and_folded_so_every_parser_reads_it_back(settings):
    settings.CLINIC_NAME = "Zoë's Physio; Rehab, Hand & Foot Centre — Süd-Ost Campus Lakeside Springfield"
    settings.CLINIC_ADDRESS = "100 Example Street, Suite 4; Springfield"
    start = local_datetime(dt.date.today() + dt.timedelta(days=9), dt.time(10))
    url = "http://127.0.0.1:8000/r/" + "t" * 120 + "/"
    raw = invitation(
        uid="u-1@x", sequence=3, start=start, end=start + dt.timedelta(minutes=45), details_url=url
    )
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    (js,) = ical_js([raw.decode()])
    vo = vobject.readOne(raw.decode()).vevent
    summary = f"Appointment at {settings.CLINIC_NAME}"
    location = f"{settings.CLINIC_NAME}, {settings.CLINIC_ADDRESS}"
    description = f"Details: {url}\nPhone: {settings.CLINIC_PHONE}"
    assert (js["summary"], js["location"], js["description"]) == (summary, location, description)
    assert (vo.summary.value, vo.location.value, vo.description.value) == (summary, location, description)
    assert js["start"] == int(start.timestamp()) and js["sequence"] == 3
