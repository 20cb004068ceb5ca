import datetime as dt

import factory
from django.utils import timezone

from clinic.tests.factories import UserFactory
from patients.models import Patient, Screening


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"T{n:07d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker(
        "date_between", start_date=dt.date(1940, 1, 1), end_date=dt.date(2005, 12, 31)
    )
    email = factory.LazyAttribute(lambda p: f"{p.first_name}.{p.last_name}@example.invalid".lower())
    # Distinct numbers: a shared one would make every patient a likely duplicate.
    phone = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")
    reminder_opt_in = True


class ScreeningFactory(factory.django.DjangoModelFactory):
    """A clear, current screening: every answer no."""

    class Meta:
        model = Screening

    patient = factory.SubFactory(PatientFactory)
    screened_at = factory.LazyFunction(timezone.now)
    screened_by = factory.SubFactory(UserFactory, role="therapist")
