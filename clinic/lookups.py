"""`field__any=[…]`: membership in a list as one array parameter.

`field__in=[…]` sends one placeholder per value, and for a list of hundreds
(a day sheet's patients and plans) Django's per-value processing and the
driver's merging of the parameters into the statement cost milliseconds per
query. On PostgreSQL `__any` sends `field = ANY(%s)` with the list as one
array; elsewhere (SQLite) it is exactly `__in`.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.lookups import In


class AnyOf(In):
    lookup_name = "any"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)  # a subquery: IN (SELECT …)
        lhs, params = self.process_lhs(compiler, connection)
        values = [value for value in dict.fromkeys(self.rhs) if value is not None]
        if not values:
            raise EmptyResultSet
        return f"{lhs} = ANY(%s)", (*params, values)


def install() -> None:
    Field.register_lookup(AnyOf)
    # Foreign keys keep their own lookups (RelatedIn …): ids, not instances, here.
    ForeignObject.register_lookup(AnyOf)
