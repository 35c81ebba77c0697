"""One row of a model by a fixed condition, read with a statement written once per database.

The reads every signed-in request makes (its user, its tenant) cost several times their statement when built and
compiled by the ORM on each request. Here the statement is written once from the model (columns, table and the
condition's names quoted by the database's rules; values are always parameters), and each row is converted as the ORM
converts it.
"""

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.db import connections, router
from django.db.models import Model

M = TypeVar("M", bound=Model)
Quote = Callable[[str], str]


def as_uuid(value: Any) -> UUID:
    """An id as a statement's database driver gives it (a UUID, or its hex on SQLite) as a UUID."""
    return value if isinstance(value, UUID) else UUID(str(value))


class RowReader(Generic[M]):
    """``condition(quote)`` gives what follows ``FROM <table>``: joins and a WHERE clause with %s for each value."""

    def __init__(self, model: type[M], condition: Callable[[Quote], str]) -> None:
        self.model = model
        self.condition = condition
        self._prepared: dict[str, tuple[str, list[str], list[tuple[int, Any, list[Any]]]]] = {}

    def _prepare(self, alias: str) -> tuple[str, list[str], list[tuple[int, Any, list[Any]]]]:
        connection = connections[alias]
        quote = connection.ops.quote_name
        meta = self.model._meta
        fields = meta.concrete_fields
        table = quote(meta.db_table)
        columns = ", ".join(f"{table}.{quote(field.get_attname_column()[1] or field.name)}" for field in fields)
        sql = f"SELECT {columns} FROM {table} {self.condition(quote)}"  # noqa: S608  (names only; values are parameters)
        conversions = []
        for index, field in enumerate(fields):
            column = field.get_col(meta.db_table)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if converters:
                conversions.append((index, column, converters))
        return sql, [field.attname for field in fields], conversions

    def get(self, params: Sequence[Any]) -> M | None:
        """The row the condition selects with these values, or None (the condition must select at most one)."""
        alias = router.db_for_read(self.model)
        prepared = self._prepared.get(alias)
        if prepared is None:
            prepared = self._prepared[alias] = self._prepare(alias)
        sql, names, conversions = prepared
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, column, converters in conversions:
            for convert in converters:
                values[index] = convert(values[index], column, connection)
        return self.model.from_db(alias, names, values)
