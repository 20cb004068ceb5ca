"""Each plan's `sessions_authorized` becomes its first authorization (R22).

The old number had no payer, reference or period. The payer is the
patient's, else an inactive "Payer not recorded"; the period starts the day
before the plan was created (no visit can be older: only active plans are
booked) and runs a year, and at least six months from today, so no plan
that could be booked before the migration is refused after it."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

UNKNOWN_PAYER = "Payer not recorded"


def forwards(apps, schema_editor):
    Plan = apps.get_model("treatments", "TreatmentPlan")
    Authorization = apps.get_model("treatments", "Authorization")
    Payer = apps.get_model("patients", "Payer")
    today = timezone.now().date()
    unknown = None
    for plan in Plan.objects.filter(sessions_authorized__gte=1).select_related("patient").iterator():
        if plan.authorizations.exists():
            continue
        payer = plan.patient.payer
        if payer is None:
            if unknown is None:
                unknown, _ = Payer.objects.get_or_create(name=UNKNOWN_PAYER, defaults={"is_active": False})
            payer = unknown
        start = min(d for d in (plan.created_at.date(), plan.start_date) if d) - dt.timedelta(days=1)
        end = max(start + dt.timedelta(days=365), today + dt.timedelta(days=183))
        Authorization.objects.create(
            plan=plan,
            payer=payer,
            number="not recorded",
            visits_authorized=plan.sessions_authorized,
            valid_from=start,
            valid_to=end,
            notes="From the plan's authorized sessions before authorizations were recorded.",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_patient_address_contact_merge"),
        ("treatments", "0007_authorizations"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
