"""`python manage.py seed_bench --appointments N`: the benchmark clinic.

40 therapists with working hours, leave and training, 20 rooms, 30 devices,
10,000 synthetic patients with screenings, 600 referrals waiting to be
booked, and N appointments with their plans over two years around today
(past ~122,000, the stream goes on into the two years before, and so on:
1M reaches back ~16 years; COPY on PostgreSQL; deterministic for a given --seed). Idempotent: running it
again adds only the appointments missing up to N, so 1k → 10k → 100k grows
one dataset; --flush deletes the benchmark rows first (with --appointments 0,
only that). See bench/seeding.py.
"""

import datetime as dt

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from bench import dataset, deps, seeding


class Command(BaseCommand):
    help = "Build (or grow) the benchmark dataset: 40 therapists, 10,000 patients, N appointments."

    def add_arguments(self, parser):
        parser.add_argument("--appointments", type=int, required=True, help="total appointments wanted")
        parser.add_argument("--patients", type=int, default=dataset.PATIENTS, help="when the clinic is made")
        parser.add_argument("--seed", type=int, default=dataset.SEED)
        parser.add_argument(
            "--anchor",
            type=dt.date.fromisoformat,
            default=None,
            help="YYYY-MM-DD the two years end 90 days after (default today); kept for later runs",
        )
        parser.add_argument("--flush", action="store_true", help="delete the benchmark rows first")

    def handle(self, *args, **options):
        if options["appointments"] < 0 or options["patients"] < 1:
            raise CommandError("--appointments must be 0 or more and --patients at least 1.")
        if problem := deps.check_seed():
            raise CommandError(problem)
        try:
            report = seeding.seed(
                appointments=options["appointments"],
                seed=options["seed"],
                patients=options["patients"],
                anchor=options["anchor"],
                flush_first=options["flush"],
                log=lambda message: self.stdout.write(message),
            )
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Benchmark data: {report.after} appointments (added {report.after - report.before}) "
                f"around {report.anchor} in {report.seconds:.1f} s."
            )
        )
