"""Synthetic demo patients and screenings for `seed_demo` (idempotent:
found again by name and date of birth; a fixed random seed keeps the data
the same on every run). Names are invented; phone numbers are in the
555-0100…0199 range reserved for fiction."""

import datetime as dt
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from patients.models import Patient
from patients.services import patient_create, screening_record

FIRST_NAMES = (
    "Avery", "Blake", "Casey", "Dana", "Emery", "Finley", "Gray", "Harper", "Indy", "Jules",
    "Kendall", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
    "Umber", "Vale", "Winter", "Xen", "Yael", "Zion", "Arden", "Briar", "Cove", "Dell",
)  # fmt: skip
LAST_NAMES = (
    "Ashdown", "Birchley", "Coldwater", "Dunmore", "Eastbrook", "Fairhaven", "Glenrock", "Hollins",
    "Ivybridge", "Juniper", "Kestrel", "Larchmont", "Merriweather", "Northcote", "Oakhurst",
    "Pembrook", "Quarry", "Rosedale", "Stonebridge", "Thornbury", "Underhill", "Vexley", "Westerly",
    "Yarrow", "Zephyr", "Alderney", "Brackenridge", "Cinderford", "Dovecote", "Elmsworth",
)  # fmt: skip
PATIENT_COUNT = 30
BLOCKED = 5  # pregnant: iontophoresis and phonophoresis are contraindicated
DUE = 7  # screened 45 days ago: needs a review before a plan starts
UNSCREENED = 29
PRECAUTION = 9  # epilepsy: a precaution for electrical modalities


def demo_patients() -> list[dict]:
    # Seeded demo data, not security.
    rng = random.Random(20261125)  # nosec B311
    rows = []
    for i in range(PATIENT_COUNT):
        born = dt.date(1948, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 58))
        rows.append(
            {
                "first_name": FIRST_NAMES[i],
                "last_name": LAST_NAMES[i],
                "date_of_birth": born,
                "sex": rng.choice(["female", "male", "female", "male", "other", ""]),
                "email": f"{FIRST_NAMES[i]}.{LAST_NAMES[i]}@example.invalid".lower(),
                "phone": f"+1202555{100 + i:04d}",
                "reminder_opt_in": i % 7 != 3,
                "referring_provider": rng.choice(["Dr. Alder (orthopedics)", "Dr. Birch (dermatology)", ""]),
            }
        )
    return rows


def seed() -> list[Patient]:
    therapist = get_user_model().objects.get(username="therapist")
    now = timezone.now()
    patients = []
    for i, row in enumerate(demo_patients()):
        patient = Patient.objects.filter(
            first_name=row["first_name"], last_name=row["last_name"], date_of_birth=row["date_of_birth"]
        ).first() or patient_create(**row)
        patients.append(patient)
        if i == UNSCREENED or patient.screenings.exists():
            continue
        answers = {"pregnancy": i == BLOCKED, "epilepsy": i == PRECAUTION}
        # Before the oldest demo visit (two weeks back), so signed history notes
        # pass the screening gate on their day, and still current today.
        days_ago = 45 if i == DUE else 15 + i % 10
        screening_record(
            patient=patient,
            screened_by=therapist,
            answers=answers,
            screened_at=now - dt.timedelta(days=days_ago, hours=2),
        )
    return patients
