"""Baselines: bare Django views returning the same rows as ours from one raw
SQL query (no ORM, no template engine, no role check). The ratio of our view
to these is the cost of the framework and our code.

The query is the one a person would write: an interval overlap with a lower
bound on `start` too (no visit lasts a day), so the start index bounds the
scan and its cost follows the rows returned, not the years of history."""

from __future__ import annotations

import datetime as dt
import json
from html import escape

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt

from appointments.models import Appointment
from clinic.localtime import clinic_tz, local_day_bounds
from treatments.models import Modality

MODALITY = dict(Modality.choices)
STATUS = dict(Appointment.Status.choices)
LONGEST_VISIT = dt.timedelta(days=1)
LIVE = ", ".join(f"'{s}'" for s in Appointment.ACTIVE_STATUSES)
COLOURS = {
    "scheduled": "#0d6efd",
    "confirmed": "#198754",
    "checked_in": "#fd7e14",
    "completed": "#6c757d",
    "no_show": "#dc3545",
}

SELECT = f"""
SELECT a.id, a.start, a."end", a.status, p.last_name, p.first_name, p.mrn, pl.modality,
       COALESCE(pl.sessions_authorized, pl.sessions_prescribed), t.display_name, r.name,
       (SELECT COUNT(*) FROM appointments_appointment b
         WHERE b.plan_id = a.plan_id AND b.status IN ({LIVE}) AND b.start <= a.start)
  FROM appointments_appointment a
  JOIN patients_patient p ON p.id = a.patient_id
  JOIN treatments_treatmentplan pl ON pl.id = a.plan_id
  JOIN appointments_therapist t ON t.id = a.therapist_id
  JOIN appointments_room r ON r.id = a.room_id
 WHERE a.start < %s AND a."end" > %s AND a.start > %s
"""
ORDER = " ORDER BY a.start, t.display_name, a.id"


def _aware(value) -> dt.datetime:
    if isinstance(value, str):  # SQLite may hand back text
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _db(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _rows(sql: str, params: list) -> list[tuple]:
    params = [_db(p) if isinstance(p, dt.datetime) else p for p in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _bound(value: str) -> dt.datetime:
    moment = parse_datetime(value.replace(" ", "+"))
    return moment if moment.tzinfo else moment.replace(tzinfo=clinic_tz())


def events(request: HttpRequest) -> JsonResponse:
    start, end = _bound(request.GET["start"]), _bound(request.GET["end"])
    sql, params = SELECT + " AND a.status <> 'cancelled'", [end, start, start - LONGEST_VISIT]
    if request.GET.get("therapist"):
        sql, params = sql + " AND a.therapist_id = %s", [*params, int(request.GET["therapist"])]
    tz = clinic_tz()
    data = [
        {
            "id": pk,
            "title": f"{last}, {first[:1]}. · {MODALITY[modality]}",
            "start": _aware(a_start).astimezone(tz).isoformat(),
            "end": _aware(a_end).astimezone(tz).isoformat(),
            "url": f"/schedule/{pk}/",
            "color": COLOURS.get(status, "#0d6efd"),
            "editable": status in ("scheduled", "confirmed"),
            "extendedProps": {
                "status": status,
                "therapist": therapist,
                "room": room,
                "session": f"{number} of {limit}",
            },
        }
        for pk, a_start, a_end, status, last, first, _, modality, limit, therapist, room, number in _rows(
            sql + ORDER, params
        )
    ]
    return JsonResponse(data, safe=False)


def day_sheet(request: HttpRequest) -> HttpResponse:
    start, end = local_day_bounds(parse_date(request.GET["date"]))
    tz = clinic_tz()
    lines = ["<!doctype html><title>Day sheet</title><table>"]
    for pk, a_start, a_end, status, last, first, mrn, modality, limit, therapist, room, number in _rows(
        SELECT + ORDER, [end, start, start - LONGEST_VISIT]
    ):
        lines.append(
            f"<tr><td>{_aware(a_start).astimezone(tz):%H:%M}–{_aware(a_end).astimezone(tz):%H:%M}</td>"
            f'<td><a href="/schedule/{pk}/">{escape(last)}, {escape(first)}</a> MRN {escape(mrn)}</td>'
            f"<td>{MODALITY[modality]} Session {number} of {limit}</td>"
            f"<td>{escape(therapist)}</td><td>{escape(room)}</td><td>{STATUS[status]}</td></tr>"
        )
    lines.append("</table>")
    return HttpResponse("".join(lines))


def insert_visit(
    *, patient: int, plan: int, therapist: int, room: int, device: int | None, start, end
) -> int:
    """One INSERT of the row our booking writes (a session), no rule checked."""
    now = dt.datetime.now(dt.UTC)
    sql = (
        "INSERT INTO appointments_appointment (created_at, updated_at, kind, patient_id, plan_id,"
        ' therapist_id, room_id, device_id, start, "end", status, sequence, cancel_reason, late_cancellation)'
        " VALUES (%s, %s, 'session', %s, %s, %s, %s, %s, %s, %s, 'scheduled', 0, '', false) RETURNING id"
    )
    [(pk,)] = _rows(sql, [now, now, patient, plan, therapist, room, device, start, end])
    return pk


@csrf_exempt
def insert(request: HttpRequest) -> JsonResponse:
    """The bare booking endpoint: the same INSERT, over HTTP."""
    body = json.loads(request.body)
    pk = insert_visit(
        patient=body["patient"],
        plan=body["plan"],
        therapist=body["therapist"],
        room=body["room"],
        device=body["device"],
        start=parse_datetime(body["start"]),
        end=parse_datetime(body["end"]),
    )
    return JsonResponse({"id": pk}, status=201)
