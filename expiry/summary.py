"""The dashboards' counts and chart at a moment, read from the summaries that expiry/tallies.py keeps current.

Which bucket a certificate is in (expired, expiring within a window, not yet valid, ...) depends on the moment only
through its end and start compared with now and with each window's limit (now + N days). The summaries count
certificates per UTC day, the site's time zone. So every day before today, between today and a window's limit, or
after the last limit falls wholly into one bucket, and its count moves there whole: time moving on never needs a
recount. Only the certificates that end today or on a limit's day, or start today, need their exact times, and
those few are counted from their rows. Not yet valid certificates, which start after today, come from the start-day
summary, by an index that reads only days still to come.

Counts are kept per tenant, with the assignment as a dimension of their key: an "assigned or not" count is the sum
of the two, and the count of several tenants the sum of theirs (``project``). ``tenant_counts`` reads any number of
tenants in the same queries: one over both summaries, grouped in the database by tenant, bucket and month; one for
the certificates of the edge days; one per usage provider for which of those are assigned. Each tenant's counts
also say until when they stay exact if nothing is written: the next midnight, or sooner the moment one of its
certificates counted from their rows changes bucket.
"""

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Field
from django.utils import timezone

from certificates import usage
from certificates.models import Certificate, CertificateQuerySet
from portal.accounts.reading import as_uuid

from . import overview as expiry
from .models import EndingTally, StartingTally

EXPIRED_BUCKETS = {expiry.URGENT, expiry.EXPIRED_UNASSIGNED}
ASSIGNED_FLAGS = {"yes": (True,), "no": (False,), "": (True, False)}
FILTERED_TENANTS = 500  # beyond this many tenants, one reading of every tenant costs less than a list of ids

Key = tuple[str, date, bool]  # bucket, month of the end, assigned
Groups = dict[Key, int]


@dataclass(frozen=True)
class TenantCounts:
    """One tenant's active certificates by bucket, month of expiry and assignment at ``since``, the same until
    ``until`` if nothing is written."""

    groups: Groups
    since: datetime
    until: datetime

    def exact_at(self, now: datetime) -> bool:
        return self.since <= now < self.until


def scope(tenant_ids: Sequence[Any] | None, assigned: str) -> CertificateQuerySet:
    """Active certificates of these tenants (every tenant when None), narrowed by assignment ("yes", "no", "")."""
    certificates = Certificate.objects.active()
    if tenant_ids is not None:
        certificates = certificates.filter(tenant_id__in=tenant_ids)
    return expiry.with_assignment(certificates, assigned)


def edge_days(now: datetime) -> tuple[date, set[date]]:
    """Today, and the days on which a certificate's end needs its time of day to be placed: today and the day of
    each window's limit."""
    today = timezone.localdate(now)
    return today, {today} | {timezone.localdate(now + timedelta(days=days)) for days in expiry.windows()}


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.get_current_timezone())


def next_midnight(now: datetime) -> datetime:
    return _start_of(timezone.localdate(now)) + timedelta(days=1)


def _tenant_filter(tenant_ids: Collection[UUID] | None) -> tuple[str, list[Any]]:
    """SQL (to follow WHERE) and its parameters keeping these tenants' rows; every row when None."""
    if tenant_ids is None:
        return "1 = 1", []
    if not tenant_ids:
        return "1 = 0", []
    prepare = EndingTally._meta.get_field("tenant").get_db_prep_value
    return f"tenant_id IN ({', '.join(['%s'] * len(tenant_ids))})", [prepare(pk, connection) for pk in tenant_ids]


def _month_sql(column: str) -> str:
    """The month of a date column as a number: year * 12 + month - 1."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(YEAR FROM {column}) * 12 + EXTRACT(MONTH FROM {column}) - 1 AS integer)"
    return f"(CAST(strftime('%%Y', {column}) AS integer) * 12 + CAST(strftime('%%m', {column}) AS integer) - 1)"


def _joined_sql(expression: str) -> str:
    """The aggregate joining the text ``expression`` of a group's rows with commas."""
    if connection.vendor == "postgresql":
        return f"STRING_AGG({expression}, ',')"
    return f"GROUP_CONCAT({expression}, ',')"


# The kinds of row of _day_rows: a certificate counted by its end; one starting after today, not yet valid (unless
# already expired); one starting today, placed with its exact start among the rows of _edge_rows.
BY_END, STARTS_LATER, STARTS_TODAY = 0, 1, 2
KINDS = 3
BUCKETS = 8  # more than there are bucket indexes: see _day_rows


def _day_rows(
    tenant_ids: Collection[UUID] | None, today: date, limits: list[date], edges: set[date]
) -> list[tuple[Any, str]]:
    """Per tenant, its counts from both summaries leaving out the edge days, in one query that returns one row per
    tenant: its id, and "code:certificates" for each of its groups, joined with commas (a thousand tenants' groups
    cost far less to read so than one row each). A code stands for the month, bucket index, assignment and kind of
    its group (``_decode``). Bucket index 0 is expired, i the window ``limits[i - 1]`` ends, ``len(limits) + 1``
    beyond them."""
    assert len(limits) + 2 <= BUCKETS
    day = EndingTally._meta.get_field("ends")
    assert isinstance(day, Field)

    def value(d: date) -> Any:
        return day.get_db_prep_value(d, connection)

    bucket = (
        "CASE " + " ".join(f"WHEN ends < %s THEN {i}" for i in range(len(limits) + 1)) + f" ELSE {len(limits) + 1} END"
    )
    bucket_params = [value(d) for d in (today, *limits)]
    code = f"(({_month_sql('ends')} * {BUCKETS} + {bucket}) * 2 + CASE WHEN assigned THEN 1 ELSE 0 END) * {KINDS}"
    who, who_params = _tenant_filter(tenant_ids)
    not_edges = f"ends NOT IN ({', '.join(['%s'] * len(edges))})"
    edge_params = [value(d) for d in sorted(edges)]
    ending = connection.ops.quote_name(EndingTally._meta.db_table)
    starting = connection.ops.quote_name(StartingTally._meta.db_table)
    later = f"CASE WHEN starts > %s THEN {STARTS_LATER} ELSE {STARTS_TODAY} END"
    groups = (
        f"SELECT tenant_id, {code} + {BY_END} AS code, SUM(count) AS n FROM {ending} "  # noqa: S608  (our SQL)
        f"WHERE {who} AND {not_edges} GROUP BY 1, 2 "
        "UNION ALL "
        f"SELECT tenant_id, {code} + {later} AS code, SUM(count) AS n FROM {starting} "
        f"WHERE {who} AND starts >= %s AND {not_edges} GROUP BY 1, 2"
    )
    joined = _joined_sql("CAST(code AS text) || ':' || CAST(n AS text)")
    sql = f"SELECT tenant_id, {joined} FROM ({groups}) AS grouped GROUP BY tenant_id"  # noqa: S608
    params = [
        *bucket_params,
        *who_params,
        *edge_params,
        *bucket_params,
        value(today),
        *who_params,
        value(today),
        *edge_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _decode(code: int, names: list[str]) -> tuple[Key, int]:
    """The group (bucket, month, assigned) and the kind a code of _day_rows stands for. ``names``: the bucket
    names of the indexes of the windows and beyond (index 1 and after)."""
    code, kind = divmod(code, KINDS)
    code, assigned = divmod(code, 2)
    month, index = divmod(code, BUCKETS)
    expired = expiry.URGENT if assigned else expiry.EXPIRED_UNASSIGNED
    name = names[index - 1] if index else expired
    year, month = divmod(month, 12)
    return (name, date(year, month + 1, 1), bool(assigned)), kind


Edge = tuple[datetime, datetime, bool]  # start, end, assigned


def _aware(moment: datetime) -> datetime:
    """A moment read by plain SQL: SQLite gives it naive, in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _edge_rows(tenant_ids: Collection[UUID] | None, today: date, edges: set[date]) -> dict[UUID, list[Edge]]:
    """Per tenant, (start, end, assigned) of the certificates counted from their rows, those ending on an edge day
    (today is one) or starting today: one query for them, then one per usage provider for which of them are
    assigned, asked by their ids."""
    ranges, params = [], []
    for day in sorted(edges):
        start = _start_of(day)
        columns = ["not_valid_after", "not_valid_before"] if day == today else ["not_valid_after"]
        for column in map(connection.ops.quote_name, columns):
            ranges.append(f"({column} >= %s AND {column} < %s)")
            params += [connection.ops.adapt_datetimefield_value(m) for m in (start, start + timedelta(days=1))]
    who, who_params = _tenant_filter(tenant_ids)
    table = connection.ops.quote_name(Certificate._meta.db_table)
    sql = (
        f"SELECT tenant_id, id, not_valid_before, not_valid_after FROM {table} "  # noqa: S608  (our SQL)
        f"WHERE archived_at IS NULL AND {who} AND ({' OR '.join(ranges)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*who_params, *params])
        found = [(as_uuid(tenant), as_uuid(pk), _aware(nvb), _aware(nva)) for tenant, pk, nvb, nva in cursor.fetchall()]
    used = {pk for pk, labels in usage.labels_for(pk for _, pk, _, _ in found).items() if labels}
    per_tenant: dict[UUID, list[Edge]] = defaultdict(list)
    for tenant, pk, not_valid_before, not_valid_after in found:
        per_tenant[tenant].append((not_valid_before, not_valid_after, pk in used))
    return per_tenant


def _next_change(rows: Iterable[Edge], now: datetime) -> datetime:
    """The first moment after ``now`` at which the counts could change with nothing written: the next midnight
    (the edge days move; a day that is not one keeps its bucket all day), or sooner when one of these certificates
    starts, ends or enters a window."""
    moments = [next_midnight(now)]
    for not_valid_before, not_valid_after, _ in rows:
        limits = [not_valid_before, not_valid_after, *(not_valid_after - timedelta(days=d) for d in expiry.windows())]
        moments.extend(moment for moment in limits if moment >= now)
    return min(moments)


def tenant_counts(
    tenant_ids: Collection[UUID] | None, now: datetime, *, every_tenant: bool = False
) -> dict[UUID, TenantCounts]:
    """The counts of each of these tenants (of every tenant that has certificates, when None) at ``now``: the same
    as ``overview.overview`` over each tenant's certificates, with the assignment in the key. A tenant asked for
    that has no active certificate has empty counts. ``every_tenant``: these are (nearly) all tenants, read in
    queries that name none."""
    today, edges = edge_days(now)
    limits = [timezone.localdate(now + timedelta(days=days)) for days in expiry.windows()]
    names = [*(f"{expiry.WITHIN_PREFIX}{days}" for days in expiry.windows()), expiry.BEYOND]
    decoded: dict[str, tuple[Key, int]] = {}
    counters: dict[UUID, dict[Key, int]] = {}
    wanted = None if every_tenant or tenant_ids is None or len(tenant_ids) > FILTERED_TENANTS else tenant_ids
    for tenant, joined in _day_rows(wanted, today, limits, edges):
        groups: dict[Key, int] = {}
        counters[as_uuid(tenant)] = groups
        for item in joined.split(","):
            code, text = item.split(":")
            found = decoded.get(code)
            if found is None:
                found = decoded[code] = _decode(int(code), names)
            key, kind = found
            n = int(text)
            if kind == BY_END:
                groups[key] = groups.get(key, 0) + n
            # Certificates starting today or later were counted above by their end day. Those starting after today
            # are not yet valid, unless their end is already past; those starting today are counted from their rows
            # below.
            elif kind == STARTS_TODAY:
                groups[key] = groups.get(key, 0) - n
            elif key[0] not in EXPIRED_BUCKETS:
                groups[key] = groups.get(key, 0) - n
                later = (expiry.NOT_YET_VALID, key[1], key[2])
                groups[later] = groups.get(later, 0) + n

    edge_rows = _edge_rows(wanted, today, edges)
    for tenant, rows in edge_rows.items():
        groups = counters.setdefault(tenant, {})
        for not_valid_before, not_valid_after, assigned in rows:
            month = expiry.month_start(timezone.localtime(not_valid_after)).date()
            key = (expiry.bucket_for(not_valid_before, not_valid_after, assigned, now), month, assigned)
            groups[key] = groups.get(key, 0) + 1

    midnight = next_midnight(now)
    chosen = counters.keys() if tenant_ids is None else tenant_ids
    return {
        tenant: TenantCounts(
            {key: n for key, n in counters.get(tenant, {}).items() if n},
            now,
            _next_change(edge_rows[tenant], now) if tenant in edge_rows else midnight,
        )
        for tenant in chosen
    }


def project(groups: Groups, assigned: str) -> dict[tuple[str, date], int]:
    """Counts keyed by bucket and month (an ``Overview``'s) of the certificates assigned ("yes"), not ("no"), or
    both ("")."""
    flags = ASSIGNED_FLAGS[assigned]
    projected: dict[tuple[str, date], int] = {}
    for (name, month, is_assigned), n in groups.items():
        if is_assigned in flags:
            projected[(name, month)] = projected.get((name, month), 0) + n
    return {key: n for key, n in projected.items() if n}


def add(total: Counter[Key], groups: Groups, sign: int = 1) -> None:
    """Add (or with ``sign`` -1, take away) one tenant's counts to a sum of tenants', dropping keys that fall to 0."""
    for key, n in groups.items():
        left = total[key] + sign * n
        if left:
            total[key] = left
        else:
            del total[key]


def summed(counts: Iterable[TenantCounts]) -> tuple[Counter[Key], datetime | None]:
    """The sum of several tenants' counts, and until when it stays exact (None when there are none)."""
    total: Counter[Key] = Counter()
    until = None
    for tenant in counts:
        add(total, tenant.groups)
        until = tenant.until if until is None else min(until, tenant.until)
    return total, until


def overview(tenant_ids: Sequence[Any] | None, assigned: str, now: datetime) -> expiry.Overview:
    """The overview of the active certificates of these tenants (all when None), narrowed by assignment, at
    ``now``: the same as ``overview.overview`` over the certificates themselves."""
    return overview_until(tenant_ids, assigned, now)[0]


def overview_until(tenant_ids: Sequence[Any] | None, assigned: str, now: datetime) -> tuple[expiry.Overview, datetime]:
    """The overview, and until when it stays exact if nothing is written."""
    ids = None if tenant_ids is None else {as_uuid(pk) for pk in tenant_ids}
    total, until = summed(tenant_counts(ids, now).values())
    return expiry.Overview(now, project(total, assigned)), until or next_midnight(now)
