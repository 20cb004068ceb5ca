from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app's demo module adds its synthetic data; order follows the app
# dependencies (supplies and homecare → notes → appointments → treatments → patients → clinic).
SEEDERS = (
    "clinic.demo",
    "patients.demo",
    "treatments.demo",
    "appointments.demo",
    "notes.demo",
    "supplies.demo",
    "homecare.demo",
)


class Command(BaseCommand):
    help = "Load synthetic demo data (idempotent). Users: frontdesk, therapist, admin."

    @transaction.atomic
    def handle(self, *args, **options):
        for dotted in SEEDERS:
            try:
                module = import_module(dotted)
            except ModuleNotFoundError as exc:
                if exc.name != dotted:
                    raise
                continue
            module.seed()
            self.stdout.write(f"seeded {dotted}")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
