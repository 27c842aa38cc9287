"""Database helpers shared by the apps.

Large id sets on the hot paths: ``id__in=[...]`` with thousands of ids renders
one placeholder per id, and psycopg parses and adapts each of them (a scoring
batch spent ~13% of its time there). ``id__any=[...]`` renders
``id = ANY(%s::bigint[])`` with the whole set as one array literal on
PostgreSQL, and falls back to ``IN`` elsewhere. Integers only. ``bigint_array`` and
``float_array`` build such literals for raw SQL.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import Lookup


def bigint_array(values: Iterable[int]) -> str:
    """A PostgreSQL bigint[] literal, '{1,2,3}', for a ``%s::bigint[]`` parameter."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def float_array(values: Iterable[float]) -> str:
    """A PostgreSQL float8[] literal, for a ``%s::float8[]`` parameter."""
    return "{" + ",".join(repr(float(v)) for v in values) + "}"


class AnyOf(Lookup):
    lookup_name = "any"

    def get_prep_lookup(self):
        return [int(v) for v in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*params, bigint_array(self.rhs)]
        if not self.rhs:
            return "0 = 1", params
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*params, *self.rhs]


models.IntegerField.register_lookup(AnyOf)
models.ForeignKey.register_lookup(AnyOf)
