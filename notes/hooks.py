"""What the layers above notes do when a note is written.

Notes sits below supplies (apps depend one way, see docs/architecture.md),
yet each saved note draws what it used from stock, in the note's own
transaction, and the note's lot fields pick from the lots on hand. Supplies
registers a `StockHooks` here from `SuppliesConfig.ready()`; with none
registered (no supplies app) notes behave as before: free-text lots.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.core.exceptions import ValidationError


class StockHooks(Protocol):
    def prepare(self, *, appointment, note, values: Mapping[str, Any]) -> dict[str, Any]:
        """Values with the lot fields resolved (a chosen stock lot fills the
        lot number and expiry) before the note's rules are checked."""

    def saved(self, *, note, values: Mapping[str, Any], user) -> None:
        """The note was saved (inside its transaction): move stock to match."""

    def refused(self, *, appointment, values: Mapping[str, Any], user, error: ValidationError) -> None:
        """A save was refused and rolled back (e.g. an expired lot, R9)."""

    def form_fields(self, *, appointment, note) -> dict[str, Any]:
        """Extra form fields for the note page (the lot choices), by name."""


_STOCK: list[StockHooks] = []


def register_stock(hooks: StockHooks) -> None:
    _STOCK[:] = [hooks]


def prepare(*, appointment, note, values: Mapping[str, Any]) -> Mapping[str, Any]:
    for hooks in _STOCK:
        values = hooks.prepare(appointment=appointment, note=note, values=values)
    return values


def saved(*, note, values: Mapping[str, Any], user) -> None:
    for hooks in _STOCK:
        hooks.saved(note=note, values=values, user=user)


def form_fields(*, appointment, note) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for hooks in _STOCK:
        fields.update(hooks.form_fields(appointment=appointment, note=note))
    return fields


def reports_refusals(service: Callable) -> Callable:
    """Wraps a note service outside its transaction: after a refusal rolled
    the write back, the registered hooks may record it (their own write)."""

    @functools.wraps(service)
    def wrapper(*, appointment, values: Mapping[str, Any], user, **kwargs):
        try:
            return service(appointment=appointment, values=values, user=user, **kwargs)
        except ValidationError as error:
            for hooks in _STOCK:
                hooks.refused(appointment=appointment, values=values, user=user, error=error)
            raise

    return wrapper
