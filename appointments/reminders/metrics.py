"""The reminder outbox, read at scrape time for /metrics (clinic.metrics):
the same figures from every web host, whichever worker host sent them."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from appointments.models import Reminder


def outbox_metrics() -> Iterator[Metric]:
    rows = GaugeMetricFamily("phoresis_outbox_messages", "Reminder outbox rows by status.", labels=["status"])
    counts = dict(Reminder.objects.values_list("status").annotate(n=Count("id")).order_by())
    for status in Reminder.Status.values:
        rows.add_metric([status], counts.get(status, 0))
    yield rows
    now = timezone.now()
    waiting = Reminder.objects.filter(status=Reminder.Status.PENDING, due_at__lte=now)
    oldest = waiting.aggregate(m=Min("due_at"))["m"]
    yield GaugeMetricFamily(
        "phoresis_outbox_oldest_due_seconds",
        "Age of the oldest message due and not yet sent (0: none waiting).",
        value=(now - oldest).total_seconds() if oldest else 0.0,
    )
