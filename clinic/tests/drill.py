"""The restore drill's two halves, each run as its own process against the
database DATABASE_URL names (clinic/tests/test_backups.py drives them):

  python -m clinic.tests.drill make   book, note, send what is due; print the state
  python -m clinic.tests.drill check NOW LATER  after the restore: the state; sweep at
                                     NOW (nothing), then at LATER (the pending rows, once)

The clock is set (time-machine) to the same instant in both, so "nothing is
sent twice" means: a sweep after the restore finds nothing due that was not
already sent before the backup."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import django
import time_machine


class Clock:
    """The time_machine fixture's move_to, outside pytest."""

    def __init__(self) -> None:
        self.traveller = None

    def move_to(self, destination, tick: bool = True) -> None:
        if self.traveller is not None:
            self.traveller.stop()
        self.traveller = time_machine.travel(destination, tick=tick)
        self.traveller.start()


def state() -> dict:
    from appointments.models import Appointment, Reminder
    from notes.models import Addendum, SessionNote
    from patients.models import Patient

    return {
        "patients": sorted(Patient.objects.values_list("mrn", flat=True)),
        "appointments": sorted(Appointment.objects.values_list("pk", "status", "start")),
        "notes": sorted(SessionNote.objects.values_list("pk", "status", "subjective")),
        "addenda": sorted(Addendum.objects.values_list("pk", "text")),
        "outbox": sorted(Reminder.objects.values_list("pk", "kind", "status", "due_at", "sent_at")),
    }


def mails() -> int:
    return len(list(Path(os.environ["EMAIL_FILE_PATH"]).glob("*")))


def main(step: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    django.setup()
    from appointments import services as scheduling
    from appointments.reminders import reminders_sweep
    from clinic.tests.world import build_world

    clock = Clock()
    if step == "make":
        world = build_world(clock)  # a signed note with an addendum, at visit time
        # The next visit that week: its confirmation is due now, its reminder later.
        later = scheduling.appointment_book(
            plan=world.plan, start=world.appointment.start + dt.timedelta(days=3)
        )
        now = world.appointment.start + dt.timedelta(minutes=30)
        clock.move_to(now, tick=False)
        sent = reminders_sweep(now=now).sent
        out = {
            "now": now.isoformat(),
            "later": (later.start - dt.timedelta(hours=2)).isoformat(),
            "sent": sent,
            "mails": mails(),
            "state": state(),
        }
    else:
        now = dt.datetime.fromisoformat(sys.argv[2])
        clock.move_to(now, tick=False)
        before = state()
        sent = reminders_sweep(now=now).sent
        mails_now = mails()
        # What was still pending in the backup goes out once, when due.
        later = dt.datetime.fromisoformat(sys.argv[3])
        clock.move_to(later, tick=False)
        due_later = reminders_sweep(now=later).sent
        again = reminders_sweep(now=later).sent
        out = {"sent": sent, "mails": mails_now, "state": before, "due_later": due_later, "again": again}
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main(sys.argv[1])
