"""clinic.together.read_together: several small reads in one query, each
row back as the model instance a plain read gives (types, order)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import ClinicClosure, Device, Room, TherapistException, WorkingHours
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.models import ClinicRules
from clinic.together import read_together

pytestmark = pytest.mark.django_db

FIELDS = {
    Room: ["id", "name", "modalities", "is_active", "created_at", "updated_at"],
    Device: ["id", "name", "kind", "home_room_id", "in_service", "calibration_due", "created_at"],
    WorkingHours: ["id", "therapist_id", "weekday", "start_time", "end_time"],
    TherapistException: ["id", "therapist_id", "kind", "start", "end", "note"],
    ClinicClosure: ["id", "start_date", "end_date", "reason"],
}


def _as_read(objs, model):
    return [tuple(getattr(o, f) for f in FIELDS[model]) for o in objs]


def test_one_query_gives_what_each_read_gives():
    therapist = TherapistFactory()
    rooms = [RoomFactory(name="B room", modalities=["tap_water"]), RoomFactory(name="A room", modalities=[])]
    DeviceFactory(home_room=rooms[0])
    DeviceFactory(calibration_due=None, in_service=False)
    WorkingHours.objects.create(
        therapist=therapist, weekday=2, start_time=dt.time(13), end_time=dt.time(17, 30)
    )
    WorkingHours.objects.create(therapist=therapist, weekday=2, start_time=dt.time(8), end_time=dt.time(12))
    now = timezone.now().replace(microsecond=123456)
    TherapistException.objects.create(
        therapist=therapist, kind="vacation", start=now, end=now + dt.timedelta(hours=3), note="é “x”"
    )
    ClinicClosure.objects.create(
        start_date=dt.date(2030, 1, 1), end_date=dt.date(2030, 1, 2), reason="New year"
    )
    ClinicRules.current()
    reads = {
        "rooms": Room.objects.all(),
        "devices": Device.objects.filter(kind=Device.Kind.IONTOPHORESIS),
        "hours": WorkingHours.objects.filter(therapist__is_active=True),
        "exceptions": TherapistException.objects.filter(therapist_id=therapist.id),
        "closures": ClinicClosure.objects.filter(start_date__year=2030),
        "empty": Room.objects.none(),
        "rules": ClinicRules.objects.filter(pk=1),
    }
    assert connection.features.supports_json_field  # SQLite asks once per connection
    with CaptureQueriesContext(connection) as captured:
        read = read_together(**reads)
    assert len(captured) == 1, [q["sql"][:300] for q in captured]
    for label, model in [
        ("rooms", Room),
        ("devices", Device),
        ("hours", WorkingHours),
        ("exceptions", TherapistException),
        ("closures", ClinicClosure),
    ]:
        assert _as_read(read[label], model) == _as_read(reads[label], model), label
    assert read["empty"] == []
    [rules] = read["rules"]
    assert rules.reminder_offsets == ClinicRules.current().reminder_offsets
    assert read["exceptions"][0].start == now and read["exceptions"][0].start.tzinfo is not None
    assert not read["rooms"][0]._state.adding  # saved rows, as from a read


def test_a_part_of_named_columns_gives_tuples():
    therapist = TherapistFactory()
    now = timezone.now().replace(microsecond=0)
    TherapistException.objects.create(
        therapist=therapist, kind="vacation", start=now, end=now + dt.timedelta(hours=1)
    )
    columns = ("id", "therapist_id", "start", "end")
    read = read_together(
        absences=(TherapistException.objects.all(), columns), rooms=Room.objects.filter(pk__in=[])
    )
    assert read == {"absences": list(TherapistException.objects.values_list(*columns)), "rooms": []}
