"""Database helpers shared by the apps.

Large id sets on the hot paths: ``id__in=[...]`` with thousands of ids renders
one placeholder per id, and psycopg parses and adapts each of them (a scoring
batch spent ~13% of its time there). ``id__any=[...]`` renders
``id = ANY(%s::bigint[])`` with the whole set as one array literal on
PostgreSQL, and falls back to ``IN`` elsewhere. Integers only. ``bigint_array`` and
``float_array`` build such literals for raw SQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection, models
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


def rows_by_external_id(model: type[models.Model], *, partner_id: int, external_ids: Iterable[str],
                        columns: tuple[str, ...]) -> list[tuple]:
    """``(external_id, *columns)`` of a partner's rows of ``model`` among ``external_ids``.

    The plain statement the ORM would send for ``filter(partner_id=...,
    external_id__in=...).values_list(...)``, without building it: through the
    ORM such a read took 0.37 ms of CPU, as a plain statement 0.10 ms (round
    trip included), and a single review POST makes two (bench/RESULTS.md, issue 14). ``model`` needs ``partner`` and ``external_id``
    fields; ``columns`` are column names of its own table.
    """
    from django.db import connection

    external_ids = list(external_ids)
    if not external_ids:
        return []
    quote = connection.ops.quote_name
    selected = ", ".join(quote(c) for c in ("external_id", *columns))
    # Identifiers come from the model's metadata and the caller's code, quoted;
    # values are parameters.
    sql = (f"SELECT {selected} FROM {quote(model._meta.db_table)} "  # noqa: S608
           f"WHERE partner_id = %s AND external_id IN ({', '.join(['%s'] * len(external_ids))})")
    with connection.cursor() as cursor:
        cursor.execute(sql, [partner_id, *external_ids])
        return cursor.fetchall()


def advisory_lock_key(name: str) -> int:
    """The bigint key of the advisory lock called ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def advisory_lock(name: str) -> Iterator[bool | None]:
    """A PostgreSQL session-level advisory lock called ``name``, tried, never waited for.

    Yields True when this session now holds it (until the block ends, or the
    session dies with its process: a killed worker never leaves it taken),
    False when another session holds it, and None on another database, which
    has no such locks (the caller decides without one).
    """
    if connection.vendor != "postgresql":
        yield None
        return
    key = advisory_lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                pass  # the session is gone, and the lock with it
