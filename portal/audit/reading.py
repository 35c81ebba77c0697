"""The audit pages' reads, in statements written here rather than built by the ORM on every request: with a page
of plain rows to read, building and compiling the queries cost more than running them.

Names (table, columns) come from the model and are quoted by the database's rules; every value is a parameter,
prepared by its field as the ORM prepares it. The filters are the form's (field, lookup, value) conditions.
"""

from collections.abc import Iterable
from functools import cached_property
from typing import Any, cast

from django.db import connection

from portal.web.paging import BoundedCountPaginator

from .forms import Condition
from .models import AuditEntry, AuditHead

# What a row of the page shows, in this order; ``details`` as the stored JSON text.
SHOWN = ("created", "actor_username", "tenant_slug", "action", "object_type", "object_repr", "details", "ip")

_OPERATORS = {"exact": "= %s", "gte": ">= %s", "lt": "< %s"}


class _Statements:
    """The names the statements use, quoted for one database, and how its values convert."""

    def __init__(self) -> None:
        quote = connection.ops.quote_name
        meta = AuditEntry._meta
        self.table = quote(meta.db_table)
        self.pk = quote(_field("id").column)
        self.head = f"SELECT {quote('count')} FROM {quote(AuditHead._meta.db_table)} WHERE {quote('id')} = 1"  # noqa: S608
        self.columns = ", ".join(quote(_field(name).column) for name in SHOWN)
        self.filtered = {name: (quote(_field(name).column), _field(name)) for name in FILTERED}
        # The values as the ORM gives them (a time with its zone on SQLite, say), but ``details`` left as its text.
        self.conversions: list[tuple[int, Any, list[Any]]] = []
        for index, name in enumerate(SHOWN):
            if name != "details":
                column = _field(name).get_col(meta.db_table)
                converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if converters:
                    self.conversions.append((index, column, converters))


def _field(name: str) -> Any:
    """A concrete field of the entry (its ``column`` is set)."""
    return AuditEntry._meta.get_field(name)


FILTERED = ("tenant", "actor_username", "action", "created")
_prepared: dict[str, _Statements] = {}


def _statements() -> _Statements:
    statements = _prepared.get(connection.alias)
    if statements is None:
        statements = _prepared[connection.alias] = _Statements()
    return statements


def _where(statements: _Statements, conditions: Iterable[Condition]) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for name, lookup, value in conditions:
        column, field = statements.filtered[name]
        if lookup == "isnull":
            clauses.append(f"{column} IS {'' if value else 'NOT '}NULL")
        else:
            clauses.append(f"{column} {_OPERATORS[lookup]}")
            params.append(field.get_db_prep_value(value, connection))
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def whole_log_count() -> int:
    """The number of entries, which the head keeps in the same transaction as every append."""
    with connection.cursor() as cursor:
        cursor.execute(_statements().head)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


class Matches:
    """The entries matching the conditions, newest first, as the paginators slice a list: ``matches[bottom:top]``
    reads those rows (``SHOWN``, as tuples) in one query. A page past the first is found by its ids first, in the
    id index alone; when the number of matches is known, a page in the back half is counted from the oldest end."""

    def __init__(self, conditions: Iterable[Condition], known_count: int | None = None) -> None:
        self.statements = _statements()
        self.where, self.params = _where(self.statements, conditions)
        self.known_count = known_count

    def count_up_to(self, limit: int) -> int:
        """How many entries match, counting no further than ``limit``."""
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {self.statements.table} {self.where} LIMIT %s) counted"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, limit])
            return int(cursor.fetchone()[0])

    def __getitem__(self, rows: slice) -> list[tuple[Any, ...]]:
        bottom, top = rows.start or 0, rows.stop
        table, pk, columns = self.statements.table, self.statements.pk, self.statements.columns
        if not bottom:
            sql = f"SELECT {columns} FROM {table} {self.where} ORDER BY {pk} DESC LIMIT %s"  # noqa: S608
            params = [*self.params, top]
        else:
            order, skipped = "DESC", bottom
            if self.known_count is not None and self.known_count - top < bottom:
                order, skipped = "ASC", self.known_count - top  # the same rows, counted from the oldest
            keys = f"SELECT {pk} FROM {table} {self.where} ORDER BY {pk} {order} LIMIT %s OFFSET %s"  # noqa: S608
            sql = f"SELECT {columns} FROM {table} WHERE {pk} IN ({keys}) ORDER BY {pk} DESC"  # noqa: S608
            params = [*self.params, top - bottom, skipped]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows_read = cursor.fetchall()
        conversions = self.statements.conversions
        if not conversions:
            return rows_read
        converted = []
        for row in rows_read:
            values = list(row)
            for index, column, converters in conversions:
                for convert in converters:
                    values[index] = convert(values[index], column, connection)
            converted.append(tuple(values))
        return converted


class BoundedCountMatchesPaginator(BoundedCountPaginator):
    """``BoundedCountPaginator`` over ``Matches``: counted as far as its limit, in SQL."""

    @cached_property
    def count(self) -> int:
        matches = cast(Matches, self.object_list)
        counted = matches.count_up_to(self._count_limit + 1)
        if counted > self._count_limit:
            self.count_is_exact = False
            return self._count_limit
        return counted
