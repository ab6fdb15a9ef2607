"""Query helpers that no app owns."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db import connection
from django.db.models import Field, ForeignObject, Lookup, Q


@Field.register_lookup
class AnyOf(Lookup):
    """`field__any_of=[...]`: `field = ANY(%s)` with the values as one array parameter
    (PostgreSQL only; see any_of)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [list(value)]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


ForeignObject.register_lookup(AnyOf)  # a foreign key keeps lookups of its own


def any_of(field: str, values: Collection[Any]) -> Q:
    """`field__in=values`, sent to PostgreSQL as one array (`field = ANY(%s)`). The driver binds
    parameters on our side, so an IN list of a thousand values costs more to bind than to run:
    the reminder sweep asks such lists for every batch. Other databases get the IN list."""
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": values})
    return Q(**{f"{field}__any_of": values})
