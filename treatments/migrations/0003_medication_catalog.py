"""The starting medication catalog (DOMAIN.md): what the clinic mixes onto
the electrode or into the gel, plus the tap-water entry (no drug). Clinic
admins edit it afterwards; re-running leaves existing rows alone."""

from django.db import migrations

IONTO, PHONO, TAP = "iontophoresis", "phonophoresis", "tap_water"

CATALOG = (
    # name, concentration, charge, modalities, is_drug, notes
    ("Dexamethasone sodium phosphate", "4 mg/mL", "negative", [IONTO], True,
     "Negative ion: cathode. About 1–2.5 mL a session."),
    ("Lidocaine HCl", "4 %", "positive", [IONTO], True, "Positive ion: anode."),
    ("Acetic acid", "2 %", "negative", [IONTO], True, "Calcific deposits. Negative ion: cathode."),
    ("Sodium chloride", "2 %", "negative", [IONTO], True, "Scar tissue. Negative ion: cathode."),
    ("Dexamethasone gel", "0.4 %", "none", [PHONO], True, "Mixed into the coupling gel."),
    ("Hydrocortisone cream", "10 %", "none", [PHONO], True,
     "Creams transmit ultrasound poorly: record the coupling medium."),
    ("Ketoprofen gel", "2.5 %", "none", [PHONO], True, "Mixed into the coupling gel."),
    ("Tap water", "", "none", [TAP], False, "No drug: tap-water iontophoresis for hyperhidrosis."),
)


def seed(apps, schema_editor):
    Medication = apps.get_model("treatments", "Medication")
    for name, concentration, charge, modalities, is_drug, notes in CATALOG:
        Medication.objects.get_or_create(
            name=name,
            concentration=concentration,
            defaults={"polarity": charge, "modalities": modalities, "is_drug": is_drug, "notes": notes},
        )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0002_plan_status_and_validators")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
