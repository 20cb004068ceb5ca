"""Several small reads in one round trip.

`read_together(rooms=Room.objects.filter(...), hours=WorkingHours.objects...)`
sends one `UNION ALL` of the querysets, each row a (label, JSON array of the
model's columns, in field order), and gives back model instances per label, in each
queryset's order (its `order_by`, else its model's `Meta.ordering`, then the
primary key). A part given as `(queryset, ("id", "start", ...))` gives
tuples of those columns instead, unordered. Meant for the few rows a write
reads after taking its lock (one statement, so one snapshot), not for large
reads: the rows travel as JSON. Each queryset keeps its own filters; joins
(select_related) and annotations are not carried, only the model's columns.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connections, models
from django.db.models import CharField, F, Func, JSONField, Value
from django.utils import timezone

Part = models.QuerySet | tuple[models.QuerySet, tuple[str, ...]]


class _Row(Func):
    """A row's columns as one JSON array. Django's JSONArray casts each column
    to its own type on PostgreSQL; compiling those casts cost more than
    running the read, and a column needs none."""

    function = "JSON_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_BUILD_ARRAY", **extra_context)


def _value(field: models.Field, value, vendor: str):
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        # PostgreSQL nests the jsonb value; SQLite hands its text over.
        if vendor == "sqlite" and isinstance(value, str):
            return json.loads(value)
        return value
    if isinstance(field, models.DecimalField):
        return field.to_python(str(value))
    value = field.to_python(value)
    # SQLite keeps UTC without an offset.
    if isinstance(field, models.DateTimeField) and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


# Columns whose JSON value is already the Python value (ids, numbers, text;
# booleans too, except SQLite's 0/1): no conversion call per value.
_AS_IS = (models.IntegerField, models.CharField, models.TextField)


def _converter(field: models.Field, vendor: str):
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    if isinstance(target, _AS_IS) or (isinstance(target, models.BooleanField) and vendor != "sqlite"):
        return None
    if type(field) in (models.TimeField, models.DateField):
        # Working hours repeat a few times of day hundreds of times: each text once.
        seen: dict[str, object] = {}

        def parse(value):
            if value not in seen:
                seen[value] = _value(field, value, vendor)
            return seen[value]

        return parse
    return lambda value: _value(field, value, vendor)


def _sort_key(model: type[models.Model], ordering: list[str]):
    attnames = []
    for name in ordering:
        if not isinstance(name, str) or name.startswith(("-", "?")) or "__" in name:
            raise ValueError(f"read_together sorts ascending columns only, not {name!r}")
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        attnames.append(field.attname)
    attnames.append(model._meta.pk.attname)
    return lambda obj: tuple(getattr(obj, a) for a in attnames)


def read_together(*, using: str = "default", **parts: Part) -> dict[str, list]:
    plans = {}
    selects = []
    vendor = connections[using].vendor
    for label, part in parts.items():
        queryset, names = part if isinstance(part, tuple) else (part, None)
        model = queryset.model
        columns = [model._meta.get_field(n) for n in names] if names else list(model._meta.concrete_fields)
        plans[label] = (queryset, model, columns, names is not None, [_converter(f, vendor) for f in columns])
        selects.append(
            queryset.order_by().values(
                label=Value(label, output_field=CharField()),
                # An array, not an object: no key per column to send or to
                # compile (JSONObject casts each key).
                row=_Row(*[F(f.attname) for f in columns]),
            )
        )
    results: dict[str, list] = {label: [] for label in parts}
    if not selects:
        return results
    combined = selects[0].union(*selects[1:], all=True) if len(selects) > 1 else selects[0]
    for item in combined.using(using):
        row = item["row"]
        if isinstance(row, str):
            row = json.loads(row)
        _, model, columns, as_tuples, converters = plans[item["label"]]
        values = [
            value if convert is None or value is None else convert(value)
            for convert, value in zip(converters, row, strict=True)
        ]
        if as_tuples:
            results[item["label"]].append(tuple(values))
        else:
            results[item["label"]].append(model.from_db(using, [f.attname for f in columns], values))
    for label, (queryset, model, _, as_tuples, _) in plans.items():
        if not as_tuples:
            ordering = list(queryset.query.order_by) or list(model._meta.ordering)
            results[label].sort(key=_sort_key(model, ordering))
    return results
