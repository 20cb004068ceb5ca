"""The embedded default (`make run`): no Redis, no SMTP server. A worker with
beat embedded, on kombu's filesystem broker, writes the email to a folder
(var/mail/ in `make run`; a temporary folder here)."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from appointments import services
from appointments.models import Reminder
from appointments.reminders import planning
from appointments.tests.reminders_support import (
    celery_publisher,
    celery_worker,
    parse,
    wait_until,
    worker_env,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles():
    for name in ("front_desk", "therapist", "clinic_admin"):
        Group.objects.get_or_create(name=name)


def mail_files(folder):
    """The messages the file backend wrote (it separates them by a line of
    dashes), in the order written: a file's name holds only the second it was
    opened and a random id, so two files of one second sort by chance."""
    messages = []
    for path in sorted(folder.glob("*.log"), key=lambda p: (p.stat().st_mtime_ns, p.name)):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(parse(chunk.lstrip(b"\n")))
    return messages


def test_a_worker_and_beat_on_the_filesystem_broker_write_the_email_to_a_folder(
    plan, therapist, room, device, at, tmp_path, settings
):
    broker_dir, mail_dir = tmp_path / "broker", tmp_path / "mail"
    env = worker_env(
        broker_url="filesystem://",
        CELERY_BROKER_DIR=str(broker_dir),
        EMAIL_FILE_PATH=str(mail_dir),
        REMINDER_SWEEP_SECONDS="1",
    )
    env.pop("EMAIL_HOST", None)
    # This process publishes its after-commit nudge to the same folders.
    queue = str(broker_dir / "queue")
    (broker_dir / "queue").mkdir(parents=True)
    settings.REMINDER_NUDGE = True
    planning._broker_quiet_until = 0.0
    options = {
        "data_folder_in": queue,
        "data_folder_out": queue,
        "control_folder": str(broker_dir / "control"),
    }
    beat = ("-B", "-s", str(tmp_path / "beat"))
    with (
        celery_publisher("filesystem://", broker_transport_options=options),
        celery_worker(env, tmp_path / "worker.log", args=beat) as worker,
    ):
        appointment = services.appointment_book(plan=plan, start=at(1, "10:00"), therapist=therapist)
        assert wait_until(lambda: len(mail_files(mail_dir)) >= 1, timeout=30), worker.output()
        Reminder.objects.filter(kind="reminder").update(due_at=timezone.now() - dt.timedelta(minutes=1))
        assert wait_until(lambda: len(mail_files(mail_dir)) >= 2, timeout=30), worker.output()
        wait_until(lambda: False, timeout=2.5)  # two more beat ticks: nothing new
    messages = mail_files(mail_dir)
    kinds = dict(Reminder.objects.values_list("pk", "kind"))
    assert [kinds[int(m["X-Phoresis-Reminder"])] for m in messages] == ["confirmation", "reminder"]
    assert set(Reminder.objects.values_list("status", flat=True)) == {"sent"}
    assert messages[0]["To"] == appointment.patient.email
