"""Demo supplies for `seed_demo`: the catalog, lots on the shelf (one close
to expiry, some below the reorder level), two payers with fee schedules, and
signed notes for the demo's completed visits so the dashboard and the
session-economics report show something real on first start. Synthetic
data only. Idempotent: items, lots and fees are matched by name, number and
date; notes are added only to completed visits that have none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import Appointment
from clinic.localtime import local_date
from notes import services as notes
from notes.models import SessionNote
from patients.models import Patient, Payer
from supplies import services
from supplies.models import FeeSchedule, Lot, SupplyItem
from treatments.models import Medication, Modality

D = Decimal
ITEMS = (
    # kind, name, medication, extra, unit, unit cost, reorder level
    (
        "drug_vial",
        "Dexamethasone sodium phosphate 4 mg/mL, 5 mL vial",
        "Dexamethasone sodium phosphate",
        {"vial_size_ml": D("5")},
        "mL",
        D("0.90"),
        D("20"),
    ),
    (
        "drug_vial",
        "Lidocaine HCl 4 %, 5 mL vial",
        "Lidocaine HCl",
        {"vial_size_ml": D("5")},
        "mL",
        D("0.60"),
        D("10"),
    ),
    ("drug_vial", "Dexamethasone 0.4 % gel, compounded", "Dexamethasone gel", {}, "mL", D("0.35"), D("20")),
    ("drug_vial", "Ketoprofen 2.5 % gel, compounded", "Ketoprofen gel", {}, "mL", D("0.25"), D("20")),
    (
        "electrode",
        "Buffered electrode set, medium",
        None,
        {"electrode_type": "buffered", "size": "medium"},
        "each",
        D("6.50"),
        D("10"),
    ),
    (
        "electrode",
        "Wearable patch, large",
        None,
        {"electrode_type": "wearable_patch", "size": "large"},
        "each",
        D("14.00"),
        D("5"),
    ),
    ("electrode", "Tap-water tray pads", None, {"electrode_type": "tray_pads"}, "each", D("2.00"), D("4")),
    ("gel", "Ultrasound gel, 250 mL bottle", None, {}, "mL", D("0.02"), D("500")),
    ("consumable", "Alcohol prep pads", None, {}, "each", D("0.03"), D("100")),
)
LOTS = (
    # item name, lot number, days to expiry, quantity
    ("Dexamethasone sodium phosphate 4 mg/mL, 5 mL vial", "DX-24A17", 300, D("100")),
    ("Dexamethasone sodium phosphate 4 mg/mL, 5 mL vial", "DX-23K02", 12, D("10")),  # close to expiry
    ("Lidocaine HCl 4 %, 5 mL vial", "LI-2209", 240, D("15")),
    ("Dexamethasone 0.4 % gel, compounded", "DG-0412", 60, D("60")),
    ("Ketoprofen 2.5 % gel, compounded", "KG-0388", 90, D("60")),
    ("Buffered electrode set, medium", "BE-55810", 540, D("40")),
    ("Wearable patch, large", "WP-7731", 400, D("3")),  # below its reorder level
    ("Tap-water tray pads", "TP-101", 1000, D("8")),
    ("Ultrasound gel, 250 mL bottle", "GEL-9001", 700, D("2000")),
    ("Alcohol prep pads", "AP-5000", 900, D("400")),
)
PAYERS = (
    # name, daily 97033 cap, fees: (code, fee, days since valid)
    (
        "Medicare Part B (demo)",
        4,
        (("97033", D("16.90"), 400), ("97033", D("17.45"), 60), ("97035", D("14.20"), 400)),
    ),
    ("Blue Harbor Health (demo)", 4, (("97033", D("26.00"), 400), ("97035", D("21.50"), 400))),
)
NOTES_SEEDED = 40


def _catalog(user) -> None:
    for kind, name, medication, extra, unit, cost, reorder in ITEMS:
        SupplyItem.objects.get_or_create(
            kind=kind,
            name=name,
            defaults={
                "medication": Medication.objects.filter(name=medication).first() if medication else None,
                "unit": unit,
                "unit_cost": cost,
                "reorder_level": reorder,
                **extra,
            },
        )
    today = local_date(timezone.now())
    for item_name, number, days, quantity in LOTS:
        item = SupplyItem.objects.get(name=item_name)
        if not Lot.objects.filter(item=item, lot_number=number).exists():
            services.lot_receive(
                item=item,
                lot_number=number,
                expiry=today + dt.timedelta(days=days),
                quantity=quantity,
                user=user,
            )


def _payers() -> list[Payer]:
    today = local_date(timezone.now())
    payers = []
    for name, cap, fees in PAYERS:
        payer, _ = Payer.objects.get_or_create(name=name, defaults={"daily_97033_unit_cap": cap})
        for code, fee, days in fees:
            valid_from = today - dt.timedelta(days=days)
            if not FeeSchedule.objects.filter(payer=payer, cpt_code=code, valid_from=valid_from).exists():
                services.fee_set(payer=payer, cpt_code=code, fee_per_unit=fee, valid_from=valid_from)
        payers.append(payer)
    # Demo patients without a payer get one of the two, alternately.
    for i, patient in enumerate(Patient.objects.filter(payer__isnull=True).order_by("id")):
        Patient.objects.filter(pk=patient.pk).update(payer=payers[i % len(payers)])
    return payers


def _note_values(visit: Appointment) -> dict:
    plan = visit.plan
    values = {
        **notes.initial_values(plan),
        "skin_before": "normal",
        "skin_after": "erythema" if plan.modality == Modality.IONTOPHORESIS else "normal",
        "pain_before": 5,
        "pain_after": 3,
        "subjective": "Synthetic demo session.",
    }
    if plan.modality == Modality.PHONOPHORESIS:
        values.update(treatment_area_cm2=D("20"), coupling_medium="Compounded gel")
    if services.uses_drug(plan):
        volume = D("1.5") if plan.modality == Modality.IONTOPHORESIS else D("3")
        day = local_date(visit.start)
        lot = services.first_to_expire(
            queryset=Lot.objects.filter(item__kind="drug_vial", item__medication_id=plan.medication_id),
            day=day,
            needed=volume,
        )
        values["medication_volume_ml"] = volume
        if lot is not None:
            values["medication_stock_lot"] = lot.pk
        else:
            values.update(
                medication_patient_supplied=True,
                medication_lot="PT-OWN-1",
                medication_expiry=day + dt.timedelta(days=180),
            )
    return values


def _signed_notes(user) -> int:
    """Notes for the demo's completed visits: saved through the service (so
    stock is drawn), then marked signed directly — the visits are already
    completed, which signing would do."""
    done = 0
    visits = (
        Appointment.objects.filter(status=Appointment.Status.COMPLETED, note__isnull=True, plan__isnull=False)
        .select_related("plan__medication", "patient")
        .order_by("start")[:NOTES_SEEDED]
    )
    for visit in visits:
        try:
            note = notes.note_save(
                appointment=visit, values=_note_values(visit), user=user, confirm_out_of_range=True
            )
        except ValidationError:
            continue  # a demo plan whose targets a rule refuses: leave that visit without a note
        SessionNote.objects.filter(pk=note.pk).update(
            status=SessionNote.Status.SIGNED, signed_by=user, signed_at=visit.end
        )
        done += 1
    return done


def seed() -> None:
    user = get_user_model().objects.get(username="therapist")
    _catalog(user)
    _payers()
    _signed_notes(user)
