"""The audit pages' reads, in statements written here rather than built by the ORM on every request: with a page
of plain rows to read, building and compiling the queries cost more than running them.

Names (table, columns) come from the model and are quoted by the database's rules; every value is a parameter,
prepared by its field as the ORM prepares it. The filters are the form's (field, lookup, value) conditions.
"""

import threading
from bisect import bisect_right
from collections.abc import Iterable
from functools import cached_property
from typing import Any, NamedTuple, cast

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
        names = {
            "count": quote("count"),
            "last_hash": quote("last_hash"),
            "head": quote(AuditHead._meta.db_table),
            "id": quote("id"),
            "action": quote(_field("action").column),
            "entry_hash": quote(_field("entry_hash").column),
            "table": self.table,
        }
        self.entry_hash = names["entry_hash"]
        self.head_count = f"SELECT {names['count']} FROM {names['head']} WHERE {names['id']} = 1"  # noqa: S608
        self.log_state = _LOG_STATE.format(scope="", **names)
        self.tenant_state = _LOG_STATE.format(scope=f"{quote(_field('tenant').column)} = %s AND ", **names)
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


class LogState(NamedTuple):
    entries: int  # in the whole log
    actions: list[str]  # the distinct action names in the log, or in one tenant's part of it
    first: str | None  # the oldest entry's hash: the chain it starts is this log's (``WholeLog``)


# The action names last read for each scope (None: the whole log; else a tenant's id), with the version of the log
# they were read at: the head's count and newest hash, which every append changes in the same transaction.
_kept_actions: dict[Any, tuple[str, list[str]]] = {}
NOTHING_KEPT = "-"  # no version: a version is "<count>:<hash>", and the log without a head reads as ""
KEPT_SCOPES = 4096


def log_state(tenant: Any = None) -> LogState:
    """The number of entries, as the head keeps it in the same transaction as every append, and the action names,
    in one query that walks the action index (from one name to the next, a few probes instead of a scan) only when
    the log has changed since they were last read for this scope."""
    statements = _statements()
    scope = None if tenant is None else tenant.pk
    kept_version, kept_actions = _kept_actions.get(scope, (NOTHING_KEPT, []))
    if scope is None:
        sql, params = statements.log_state, [kept_version]
    else:
        tenant_id = _field("tenant").get_db_prep_value(scope, connection)
        sql, params = statements.tenant_state, [tenant_id, kept_version, tenant_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    _, version, entries, first = rows[0]
    if version is None:  # no head: a log emptied behind the application's back (``verify`` says so)
        return LogState(0, [action for _, action, _, _ in rows[1:]], None)
    if version != kept_version:
        kept_actions = [action for _, action, _, _ in rows[1:]]
        if len(_kept_actions) >= KEPT_SCOPES:
            _kept_actions.clear()
        _kept_actions[scope] = (version, kept_actions)
    return LogState(int(entries), kept_actions, first)


_LOG_STATE = """
    WITH RECURSIVE
    head(version, entries) AS (
        SELECT {count} || ':' || {last_hash}, {count} FROM {head} WHERE {id} = 1
    ),
    names(action) AS (
        SELECT (SELECT MIN({action}) FROM {table} WHERE {scope}1 = 1)
        WHERE COALESCE((SELECT version FROM head), '') <> %s
        UNION ALL
        SELECT (SELECT MIN({action}) FROM {table} WHERE {scope}{action} > names.action)
        FROM names WHERE names.action IS NOT NULL
    )
    SELECT 0, (SELECT version FROM head), (SELECT entries FROM head),
        (SELECT {entry_hash} FROM {table} ORDER BY {id} LIMIT 1)
    UNION ALL
    SELECT 1, action, NULL, NULL FROM names WHERE action IS NOT NULL
    ORDER BY 1, 2
"""


class Matches:
    """The entries matching the conditions, newest first, as the paginators slice a list: ``matches[bottom:top]``
    reads those rows (``SHOWN``, as tuples) in one query. A page past the first is found by its ids first, in the
    id index alone."""

    def __init__(self, conditions: Iterable[Condition]) -> None:
        self.statements = _statements()
        self.where, self.params = _where(self.statements, conditions)

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
            keys = f"SELECT {pk} FROM {table} {self.where} ORDER BY {pk} DESC LIMIT %s OFFSET %s"  # noqa: S608
            sql = f"SELECT {columns} FROM {table} WHERE {pk} IN ({keys}) ORDER BY {pk} DESC"  # noqa: S608
            params = [*self.params, top - bottom, bottom]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return self.converted(cursor.fetchall())

    def converted(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """``SHOWN`` of each row (the first values), as the ORM gives them."""
        conversions, width = self.statements.conversions, len(SHOWN)
        converted = []
        for row in rows:
            values = list(row[:width])
            for index, column, converters in conversions:
                for convert in converters:
                    values[index] = convert(values[index], column, connection)
            converted.append(tuple(values))
        return converted


# The landmarks of each log: (place counted from the oldest entry, id, hash), in order of place.
Landmark = tuple[int, Any, str]
_landmarks: dict[tuple[str, str], list[Landmark]] = {}
_landmarks_lock = threading.Lock()  # each list stays in order of place under threads
KEPT_LANDMARKS = 4096
KEPT_LOGS = 8


def _place(landmark: Landmark) -> int:
    return landmark[0]


class WholeLog(Matches):
    """Every entry, newest first, when their number is known (``LogState``). A page deep in a long log is reached
    from the nearest of three places: the newest entry, the oldest, or a landmark, the oldest entry of a page read
    before. Entries are only appended, with ids in the chain's order, and never removed, so the place of an entry
    counted from the oldest never changes: a landmark holds for as long as its log (named by its first entry's hash)
    exists, and the query checks that its entry is still there."""

    def __init__(self, state: LogState) -> None:
        super().__init__([])
        self.entries, self.first = state.entries, state.first

    def __getitem__(self, rows: slice) -> list[tuple[Any, ...]]:
        bottom, top = rows.start or 0, rows.stop
        if not bottom or self.first is None:
            return super().__getitem__(rows)
        older = self.entries - top  # entries older than the page
        with _landmarks_lock:
            if len(_landmarks) >= KEPT_LOGS and (connection.alias, self.first) not in _landmarks:
                _landmarks.clear()  # the landmarks of logs since emptied (as tests do)
            landmarks = _landmarks.setdefault((connection.alias, self.first), [])
            nearest = bisect_right(landmarks, older, key=_place) - 1
            below = landmarks[nearest] if nearest >= 0 else None
        routes: list[tuple[int, str, Landmark | None]] = [(bottom, "newest", None), (older, "oldest", None)]
        if below is not None:
            routes.append((older - below[0], "landmark", below))
        skipped, start, landmark = min(routes, key=lambda route: route[0])
        read = self._read(start, top - bottom, skipped, landmark)
        if not read and landmark is not None:  # its entry is gone: a log rebuilt behind the application's back
            with _landmarks_lock:
                landmarks.clear()
            skipped, start, landmark = min(routes[:2], key=lambda route: route[0])
            read = self._read(start, top - bottom, skipped, None)
        if read:
            oldest = read[-1]  # its place: counted from the newest in the same snapshot, or from the oldest
            place = oldest[-1] - bottom - len(read) if start == "newest" else older
            self._keep(landmarks, (place, oldest[-3], oldest[-2]))
        return self.converted(read)

    def _read(self, start: str, size: int, skipped: int, landmark: Landmark | None) -> list[tuple[Any, ...]]:
        table, pk, statements = self.statements.table, self.statements.pk, self.statements
        after, params = "", []
        if landmark is not None:
            after, params = f"WHERE {pk} >= %s ", [landmark[1]]
        order = "DESC" if start == "newest" else "ASC"
        keys = f"SELECT {pk} FROM {table} {after}ORDER BY {pk} {order} LIMIT %s OFFSET %s"  # noqa: S608
        sql = (
            f"SELECT {statements.columns}, {pk}, {statements.entry_hash}, ({statements.head_count}) FROM {table} "  # noqa: S608
            f"WHERE {pk} IN ({keys})"
        )
        params += [size, skipped]
        if landmark is not None:
            sql += f" AND EXISTS (SELECT 1 FROM {table} WHERE {pk} = %s AND {statements.entry_hash} = %s)"  # noqa: S608
            params += [landmark[1], landmark[2]]
        with connection.cursor() as cursor:
            cursor.execute(sql + f" ORDER BY {pk} DESC", params)
            return cursor.fetchall()

    @staticmethod
    def _keep(landmarks: list[Landmark], landmark: Landmark) -> None:
        with _landmarks_lock:
            if len(landmarks) >= KEPT_LANDMARKS:
                landmarks.clear()
            at = bisect_right(landmarks, landmark[0], key=_place)
            if not at or landmarks[at - 1][0] != landmark[0]:
                landmarks.insert(at, landmark)


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
