import datetime as dt
import itertools
from decimal import Decimal

import factory
from django.utils import timezone

from patients.tests.factories import PatientFactory
from treatments.models import Medication, Modality, Polarity, TreatmentPlan


class MedicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Medication
        django_get_or_create = ("name", "concentration")

    name = "Dexamethasone sodium phosphate"
    concentration = "4 mg/mL"
    polarity = Medication.Charge.NEGATIVE
    modalities = factory.LazyFunction(lambda: [Modality.IONTOPHORESIS])


class PlanFactory(factory.django.DjangoModelFactory):
    """An active iontophoresis plan: dexamethasone, 40 mA·min at 4 mA, cathode."""

    class Meta:
        model = TreatmentPlan

    patient = factory.SubFactory(PatientFactory)
    modality = Modality.IONTOPHORESIS
    medication = factory.SubFactory(MedicationFactory)
    body_site = "Lateral epicondyle"
    side = TreatmentPlan.Side.RIGHT
    prescriber = "Dr. Example"
    prescription_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=7))
    sessions_prescribed = 6
    frequency_per_week = 2
    min_interval_hours = 48
    session_minutes = 30
    status = TreatmentPlan.Status.ACTIVE
    dose_ma_min = Decimal("40")
    current_ma = Decimal("4")
    polarity = Polarity.NEGATIVE
    electrode_type = TreatmentPlan.ElectrodeType.BUFFERED

    class Params:
        phono = factory.Trait(
            modality=Modality.PHONOPHORESIS,
            medication=factory.SubFactory(
                MedicationFactory,
                name="Dexamethasone gel",
                concentration="0.4 %",
                polarity=Medication.Charge.NONE,
                modalities=[Modality.PHONOPHORESIS],
            ),
            min_interval_hours=24,
            session_minutes=20,
            dose_ma_min=None,
            current_ma=None,
            polarity=None,
            electrode_type=None,
            frequency_mhz=1,
            intensity_w_cm2=Decimal("1.0"),
            duty_cycle_pct=100,
            treatment_minutes=8,
        )
        tap_water = factory.Trait(
            modality=Modality.TAP_WATER,
            medication=None,
            body_site="Palms",
            side=TreatmentPlan.Side.BILATERAL,
            min_interval_hours=24,
            session_minutes=40,
            frequency_per_week=3,
            sessions_prescribed=10,
            dose_ma_min=None,
            current_ma=Decimal("15"),
            polarity=None,
            electrode_type=None,
            tray=TreatmentPlan.Tray.HANDS,
            treatment_minutes=20,
            polarity_alternation=TreatmentPlan.PolarityAlternation.MIDWAY,
            maintenance_interval_days=14,
        )


def tap_water_entry() -> Medication:
    """The catalog's no-drug entry (seeded by migration 0003)."""
    return Medication.objects.get(name="Tap water")


_slots = itertools.count()


def make_appointments(plan: TreatmentPlan, *statuses: str):
    """One appointment per status, for counter tests (R14), each in an hour
    of its own so PostgreSQL's no-overlap constraints (R1) hold. Made
    directly: booking rules belong to the appointments app."""
    from appointments.models import Appointment, Room, Therapist
    from clinic.tests.factories import UserFactory

    user = UserFactory(role="therapist")
    therapist = Therapist.objects.create(user=user, display_name=user.get_full_name() or user.username)
    room = Room.objects.create(name=f"Room {user.pk}", modalities=[plan.modality])
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    appointments = []
    for status in statuses:
        start = base + dt.timedelta(hours=next(_slots))
        appointments.append(
            Appointment.objects.create(
                patient=plan.patient,
                plan=plan,
                therapist=therapist,
                room=room,
                start=start,
                end=start + dt.timedelta(minutes=plan.session_minutes),
                status=status,
            )
        )
    return appointments
