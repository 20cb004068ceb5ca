"""Several small reads in one round trip.

`read_together(rooms=Room.objects.filter(...), hours=WorkingHours.objects...)`
sends one `UNION ALL` of the querysets, each row a (label, JSON object of the
model's columns), and gives back model instances per label, in each
queryset's order (its `order_by`, else its model's `Meta.ordering`, then the
primary key). Meant for the few rows of reference data a write reads after
taking its lock (one statement, so one snapshot), not for large reads: the
rows travel as JSON. Each queryset keeps its own filters; joins
(select_related) and annotations are not carried, only the model's columns.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connections, models
from django.db.models import CharField, F, Value
from django.db.models.functions import JSONObject
from django.utils import timezone


def _columns(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def _decode(model: type[models.Model], row: dict, vendor: str) -> models.Model:
    values = []
    for field in _columns(model):
        value = row.get(field.attname)
        if value is not None:
            if isinstance(field, models.JSONField):
                # PostgreSQL nests the jsonb value; SQLite hands its text over.
                if vendor == "sqlite" and isinstance(value, str):
                    value = json.loads(value)
            elif isinstance(field, models.DecimalField):
                value = field.to_python(str(value))
            else:
                value = field.to_python(value)
                # SQLite keeps UTC without an offset.
                if isinstance(field, models.DateTimeField) and timezone.is_naive(value):
                    value = timezone.make_aware(value, dt.UTC)
        values.append(value)
    return model.from_db(None, [f.attname for f in _columns(model)], values)


def _sort_key(model: type[models.Model], ordering: list[str]):
    attnames = []
    for name in ordering:
        if not isinstance(name, str) or name.startswith(("-", "?")) or "__" in name:
            raise ValueError(f"read_together sorts ascending columns only, not {name!r}")
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        attnames.append(field.attname)
    attnames.append(model._meta.pk.attname)
    return lambda obj: tuple(getattr(obj, a) for a in attnames)


def read_together(*, using: str = "default", **querysets: models.QuerySet) -> dict[str, list[models.Model]]:
    parts = []
    for label, queryset in querysets.items():
        model = queryset.model
        parts.append(
            queryset.order_by().values(
                label=Value(label, output_field=CharField()),
                row=JSONObject(**{f.attname: F(f.attname) for f in _columns(model)}),
            )
        )
    results: dict[str, list[models.Model]] = {label: [] for label in querysets}
    if not parts:
        return results
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    vendor = connections[using].vendor
    for item in combined.using(using):
        row = item["row"]
        if isinstance(row, str):
            row = json.loads(row)
        results[item["label"]].append(_decode(querysets[item["label"]].model, row, vendor))
    for label, queryset in querysets.items():
        ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
        results[label].sort(key=_sort_key(queryset.model, ordering))
    return results
