"""A small clinic with one of everything, for tests that walk every URL
(the permission matrix) or follow a record through its history (the audit
trail): a patient with a screening, an active plan, a visit today with a
signed note and an addendum, a waitlist entry, and a user of each role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User

from appointments import services as scheduling
from appointments.models import Appointment, Device, Reminder, Room, Therapist, WaitlistEntry
from appointments.tests.conftest import next_weekday
from appointments.tests.factories import DeviceFactory, RoomFactory, TherapistFactory
from clinic.localtime import local_datetime
from clinic.models import ClinicRules
from clinic.tests.factories import UserFactory
from notes import services as notes
from notes.models import Addendum, SessionNote
from patients.models import Patient, Payer, Screening
from patients.tests.factories import ScreeningFactory
from treatments.models import Authorization, Medication, TreatmentPlan
from treatments.tests.factories import PlanFactory

PASSWORD = "phoresis-demo"  # the factories' DEMO_PASSWORD


@dataclass
class World:
    users: dict[str, User]
    patient: Patient
    screening: Screening
    plan: TreatmentPlan
    medication: Medication
    appointment: Appointment
    note: SessionNote
    addendum: Addendum
    therapist: Therapist
    room: Room
    device: Device
    waitlist: WaitlistEntry
    reminder: Reminder
    rules: ClinicRules
    payer: Payer
    authorization: Authorization


def build_world(time_machine) -> World:
    users = {
        "front_desk": UserFactory(username="fd", role="front_desk"),
        "therapist": UserFactory(username="th", role="therapist"),
        "clinic_admin": UserFactory(username="ca", role="clinic_admin", is_staff=True),
    }
    day = next_weekday(1)
    start = local_datetime(day, dt.time(10))
    plan = PlanFactory()
    screening = ScreeningFactory(patient=plan.patient, screened_at=start - dt.timedelta(days=1))
    room = RoomFactory(name="Room W")
    device = DeviceFactory(home_room=room)
    therapist = TherapistFactory(display_name="Theo", user=users["therapist"])
    time_machine.move_to(start - dt.timedelta(hours=1), tick=False)
    appointment = scheduling.appointment_book(plan=plan, start=start)
    time_machine.move_to(start + dt.timedelta(minutes=20), tick=False)
    values = {
        "current_ma": Decimal("4"),
        "treatment_minutes": Decimal("10"),
        "polarity": "negative",
        "electrode_type": "buffered",
        "electrode_lot": "EL-1",
        "medication_lot": "DX-42",
        "medication_expiry": day + dt.timedelta(days=30),
        "medication_volume_ml": Decimal("1.5"),
        "skin_before": "normal",
        "skin_after": "erythema",
        "pain_before": 6,
        "pain_after": 4,
        "timed_minutes": 10,
        "subjective": "Elbow pain easing",
    }
    user = users["therapist"]
    notes.note_save(appointment=appointment, values=values, user=user)
    note = notes.note_sign(appointment=appointment, user=user, password=PASSWORD)
    addendum = notes.addendum_add(appointment=appointment, user=user, text="Called the patient: no blister.")
    waitlist = scheduling.waitlist_add(plan=PlanFactory(patient=plan.patient, body_site="Knee"))
    appointment.refresh_from_db()
    payer = Payer.objects.create(name="Synthetic Mutual")
    authorization = Authorization.objects.create(
        plan=plan,
        payer=payer,
        number="SM-1",
        visits_authorized=plan.sessions_prescribed,
        valid_from=day - dt.timedelta(days=30),
        valid_to=day + dt.timedelta(days=90),
    )
    return World(
        users=users,
        patient=plan.patient,
        screening=screening,
        plan=plan,
        medication=plan.medication,
        appointment=appointment,
        note=note,
        addendum=addendum,
        therapist=therapist,
        room=room,
        device=device,
        waitlist=waitlist,
        reminder=Reminder.objects.filter(appointment=appointment).order_by("pk").first(),
        rules=ClinicRules.current(),
        payer=payer,
        authorization=authorization,
    )
