import datetime as dt

import factory

from appointments.models import Device, Room, Therapist, WorkingHours
from clinic.tests.factories import UserFactory
from treatments.models import Modality

ALL_MODALITIES = [m.value for m in Modality]


class TherapistFactory(factory.django.DjangoModelFactory):
    """A therapist giving every modality, working Monday–Friday 08:00–17:00."""

    class Meta:
        model = Therapist
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role="therapist")
    display_name = factory.Sequence(lambda n: f"Therapist {n}")
    modalities = factory.LazyFunction(lambda: list(ALL_MODALITIES))

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if not create:
            return
        blocks = extracted if extracted is not None else [(d, dt.time(8), dt.time(17)) for d in range(5)]
        WorkingHours.objects.bulk_create(
            WorkingHours(therapist=self, weekday=d, start_time=s, end_time=e) for d, s, e in blocks
        )


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Room {n + 1}")
    modalities = factory.LazyFunction(lambda: list(ALL_MODALITIES))


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    name = factory.Sequence(lambda n: f"Device {n + 1}")
    kind = Device.Kind.IONTOPHORESIS
    serial_number = factory.Sequence(lambda n: f"SN-{n:05d}")
    in_service = True
    calibration_due = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=365))
