"""Synthetic demo plans for `seed_demo`, all three modalities, activated so
scheduling can book them; some close to their authorization limit, one
draft held back by a blocked screening. Idempotent: a patient's plan is
found again by modality and body site."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from patients.demo import BLOCKED, DUE, UNSCREENED, demo_patients
from patients.models import Patient
from treatments.models import Medication, Modality, TreatmentPlan
from treatments.services import plan_activate, plan_create

PLAN_COUNT = 24


def _medication(name: str) -> Medication:
    return Medication.objects.get(name=name)


def _plan_data(i: int) -> dict:
    kind = i % 3
    common = {
        "prescriber": "Dr. Alder (orthopedics)" if kind != 2 else "Dr. Birch (dermatology)",
        # Prescribed before the plan's first (history) visit, two to three weeks back.
        "prescription_date": timezone.localdate() - dt.timedelta(days=30 + i),
        "start_date": timezone.localdate() - dt.timedelta(days=21),
        # Every fifth plan is close to its limit: the R14 alert shows. Never
        # more authorized than prescribed (R19 would ask for a confirmation).
        "sessions_authorized": 2 if i % 5 == 0 else {0: 6, 1: 6 + i % 3, 2: 12}[kind],
    }
    if kind == 0:
        drug = _medication("Lidocaine HCl" if i % 4 == 3 else "Dexamethasone sodium phosphate")
        return common | {
            "modality": Modality.IONTOPHORESIS,
            "medication": drug,
            "indication": "Lateral epicondylitis",
            "icd10_code": "M77.1" + ("1" if i % 2 else "2"),
            "body_site": "Lateral epicondyle",
            "side": "right" if i % 2 else "left",
            "sessions_prescribed": 6,
            "frequency_per_week": 2,
            "dose_ma_min": Decimal("40"),
            "current_ma": Decimal("4"),
            "polarity": drug.polarity,
            "electrode_type": TreatmentPlan.ElectrodeType.BUFFERED,
        }
    if kind == 1:
        return common | {
            "modality": Modality.PHONOPHORESIS,
            "medication": _medication("Dexamethasone gel" if i % 2 else "Ketoprofen gel"),
            "indication": "Plantar fasciitis",
            "icd10_code": "M72.2",
            "body_site": "Plantar fascia",
            "side": "left" if i % 2 else "right",
            "sessions_prescribed": 8,
            "frequency_per_week": 3,
            "frequency_mhz": 3 if i % 2 else 1,
            "intensity_w_cm2": Decimal("1.0"),
            "duty_cycle_pct": 50 if i % 2 else 100,
            "treatment_minutes": 8,
        }
    feet = i % 4 == 2
    return common | {
        "modality": Modality.TAP_WATER,
        "medication": None,
        "indication": "Primary focal hyperhidrosis",
        "icd10_code": "L74.512" if feet else "L74.513",
        "body_site": "Soles" if feet else "Palms",
        "side": TreatmentPlan.Side.BILATERAL,
        "sessions_prescribed": 12,
        "frequency_per_week": 3,
        "tray": TreatmentPlan.Tray.FEET if feet else TreatmentPlan.Tray.HANDS,
        "current_ma": Decimal("15"),
        "treatment_minutes": 30 if feet else 20,
        "polarity_alternation": TreatmentPlan.PolarityAlternation.MIDWAY,
        "maintenance_interval_days": 14,
    }


def seed() -> list[TreatmentPlan]:
    therapist = get_user_model().objects.get(username="therapist")
    plans = []
    for i, row in enumerate(demo_patients()[:PLAN_COUNT]):
        patient = Patient.objects.get(
            first_name=row["first_name"], last_name=row["last_name"], date_of_birth=row["date_of_birth"]
        )
        data = _plan_data(i)
        plan = patient.plans.filter(modality=data["modality"], body_site=data["body_site"]).first()
        if plan is None:
            plan = plan_create(patient=patient, user=therapist, data=data)
            if i not in (BLOCKED, DUE, UNSCREENED):
                plan_activate(plan=plan, user=therapist)
        plans.append(plan)
    return plans
