"""Keeping the expiry summaries equal to the certificates they count.

Every write to a tenant's certificates or their assignments sends ``certificates_changed`` inside its transaction,
after locking the tenant's revision row. The receiver recounts that tenant's active certificates (a query over the
tenant's rows, not every tenant's, and one per usage provider), compares the counts with the tenant's summary rows
and applies the difference, in the same transaction: a summary and the rows it counts commit together.

The tenant's rows are updated in place: its writes already take turns on its revision row. The all-tenant rows are
shared by every tenant, so a write adds rows holding its differences instead of updating them; then it merges, for
the keys it touched, the rows that no other transaction holds (``FOR UPDATE SKIP LOCKED``). No write ever waits for
another tenant's, however long that one runs (a restore of a thousand keys, say), and readers sum the rows of a key.

Because the recount starts from the rows, it also mends a tenant whose summaries were wrong. ``rebuild`` does it for
every tenant and the all-tenant rows, and reports what it mended.
"""

import operator
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import reduce
from typing import Any, cast

from django.db import connection, connections, transaction
from django.db.models import Field, Model, Q, Sum
from django.utils import timezone

from certificates import usage
from certificates.models import Certificate, CertificateQuerySet, CertificateRevision
from portal.accounts.models import Tenant

from .models import ALL_TENANTS, AllEndingTally, AllStartingTally, EndingTally, StartingTally

UPSERT_BATCH = 500  # rows per statement: a rebuild writes many, and SQLite caps the parameters of one


@dataclass(frozen=True)
class Table:
    """One summary: its per-tenant and all-tenant models, and the fields of its key (after the tenant)."""

    name: str
    per_tenant: type[Model]
    all_tenants: type[Model]
    key: tuple[str, ...]


ENDING = Table("ending", EndingTally, AllEndingTally, ("assigned", "ends"))
STARTING = Table("starting", StartingTally, AllStartingTally, ("assigned", "starts", "ends"))
TABLES = (ENDING, STARTING)

Counts = dict[Table, Counter[tuple[Any, ...]]]  # table -> key -> certificates


@dataclass(frozen=True)
class Difference:
    """One summary row that did not match the certificates: what it said and what they count."""

    scope: str  # a tenant (its slug in a rebuild's report, else its id), or ALL_TENANTS
    table: str
    key: tuple[Any, ...]
    kept: int
    counted: int

    def __str__(self) -> str:
        assigned, *days = self.key
        when = " to ".join(day.isoformat() for day in days)
        what = "assigned" if assigned else "unassigned"
        return (
            f"{self.scope}: {self.table} {when}, {what}: the summary said {self.kept}, the certificates {self.counted}"
        )


def _empty() -> Counts:
    return {table: Counter() for table in TABLES}


def _counted(certificates: CertificateQuerySet) -> Counts:
    """The active certificates of ``certificates`` (one tenant's) by assignment, start day and end day: one query
    for their days, one per usage provider for which of them are assigned."""
    rows = list(certificates.order_by().values_list("pk", "not_valid_before", "not_valid_after"))
    assigned = {pk for pk, labels in usage.labels_for(pk for pk, _, _ in rows).items() if labels}
    counts = _empty()
    for pk, not_valid_before, not_valid_after in rows:
        starts, ends = timezone.localdate(not_valid_before), timezone.localdate(not_valid_after)
        counts[ENDING][(pk in assigned, ends)] += 1
        counts[STARTING][(pk in assigned, starts, ends)] += 1
    return counts


def _kept_per_tenant(tenant_ids: list[Any]) -> dict[str, Counts]:
    kept = {str(tenant): _empty() for tenant in tenant_ids}
    for table in TABLES:
        rows = table.per_tenant._default_manager.filter(tenant_id__in=tenant_ids)
        for tenant, *key, n in rows.values_list("tenant_id", *table.key, "count"):
            kept[str(tenant)][table][tuple(key)] = n
    return kept


def _kept_all_tenants() -> Counts:
    kept = _empty()
    for table in TABLES:
        rows = table.all_tenants._default_manager.values_list(*table.key).annotate(n=Sum("count"))
        for *key, n in rows:
            if n:
                kept[table][tuple(key)] = n
    return kept


def _differences(kept: Counter[Any], counted: Counter[Any]) -> dict[Any, int]:
    return {key: counted[key] - kept[key] for key in kept.keys() | counted.keys() if counted[key] != kept[key]}


def _add_to_tenant(table: Table, tenant_id: Any, changes: dict[Any, int]) -> None:
    """Add ``changes`` (key -> difference) to the tenant's rows, making those missing and deleting those that fall
    to 0: an upsert that adds."""
    model = table.per_tenant
    quote = connection.ops.quote_name
    fields = ["tenant_id", *table.key]
    name, count = quote(model._meta.db_table), quote("count")
    columns = ", ".join(quote(field) for field in [*fields, "count"])
    prepared = [cast(Field, model._meta.get_field(field)).get_db_prep_value for field in [*fields, "count"]]
    values = [
        [prepare(value, connection) for prepare, value in zip(prepared, (tenant_id, *key, n), strict=True)]
        for key, n in sorted(changes.items())
    ]
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(values), UPSERT_BATCH):
            batch = values[start : start + UPSERT_BATCH]
            cursor.execute(
                f"INSERT INTO {name} ({columns}) VALUES {', '.join([row] * len(batch))} "  # noqa: S608  (our names)
                f"ON CONFLICT ({', '.join(quote(field) for field in fields)}) "
                f"DO UPDATE SET {count} = {name}.{count} + excluded.{count}",
                [value for line in batch for value in line],
            )
    model._default_manager.filter(tenant_id=tenant_id, count=0).delete()


def _add_to_all_tenants(table: Table, changes: dict[Any, int]) -> None:
    """Add rows holding ``changes``, then merge the rows of those keys that no other transaction holds into one
    row per key (none when they sum to 0). Rows held elsewhere are merged by a later write."""
    model = table.all_tenants
    manager = model._default_manager
    manager.bulk_create([model(**dict(zip(table.key, key, strict=True)), count=n) for key, n in changes.items()])
    touched = reduce(operator.or_, (Q(**dict(zip(table.key, key, strict=True))) for key in changes))
    rows = manager.filter(touched).select_for_update(skip_locked=True).values_list("pk", *table.key, "count")
    merged: dict[tuple[Any, ...], list[Any]] = {}
    sums: Counter[tuple[Any, ...]] = Counter()
    for pk, *key, n in rows:
        merged.setdefault(tuple(key), []).append(pk)
        sums[tuple(key)] += n
    mergeable = {key for key, pks in merged.items() if len(pks) > 1 or not sums[key]}
    if mergeable:
        manager.filter(pk__in=[pk for key in mergeable for pk in merged[key]]).delete()
        manager.bulk_create(
            [model(**dict(zip(table.key, key, strict=True)), count=sums[key]) for key in mergeable if sums[key]]
        )


def recount(tenant_ids: Iterable[Any]) -> list[Difference]:
    """Bring these tenants' summary rows, and the all-tenant rows by the same amounts, to what their certificates
    count now. Run inside the writing transaction, with the tenants' revision rows locked (``certificates_changed``).
    Returns what changed."""
    tenants = sorted(tenant_ids, key=str)
    kept = _kept_per_tenant(tenants)
    changed: list[Difference] = []
    for tenant in tenants:
        counted = _counted(Certificate.objects.active().filter(tenant_id=tenant))
        for table in TABLES:
            changes = _differences(kept[str(tenant)][table], counted[table])
            if changes:
                _add_to_tenant(table, tenant, changes)
                _add_to_all_tenants(table, changes)
            changed.extend(_report(str(tenant), table, kept[str(tenant)][table], counted[table], changes))
    return changed


def _report(
    scope: str, table: Table, kept: Counter[Any], counted: Counter[Any], changes: dict[Any, int]
) -> Iterator[Difference]:
    for key in sorted(changes):
        yield Difference(scope, table.name, key, kept[key], counted[key])


def on_certificates_changed(sender: Any, tenant_ids: Iterable[Any], **kwargs: Any) -> None:
    recount(tenant_ids)


@transaction.atomic
def rebuild() -> list[Difference]:
    """Count every tenant's certificates again, and all of them together, and make the summaries say so. Returns
    each row that was wrong (none, when the summaries were kept as they should be).

    Writers wait while it runs: it locks every tenant's revision row first, as each write does its tenant's."""
    slugs = dict(Tenant.objects.order_by("pk").values_list("pk", "slug"))
    CertificateRevision.objects.replace(slugs, announce=False)
    differences: list[Difference] = []
    everything = _empty()
    kept_per_tenant = _kept_per_tenant(list(slugs))
    for tenant, slug in slugs.items():
        kept = kept_per_tenant[str(tenant)]
        counted = _counted(Certificate.objects.active().filter(tenant_id=tenant))
        for table in TABLES:
            changes = _differences(kept[table], counted[table])
            if changes:
                _add_to_tenant(table, tenant, changes)
            differences.extend(_report(slug, table, kept[table], counted[table], changes))
            everything[table].update(counted[table])
    kept_all = _kept_all_tenants()
    for table in TABLES:
        changes = _differences(kept_all[table], everything[table])
        differences.extend(_report(ALL_TENANTS, table, kept_all[table], everything[table], changes))
        manager = table.all_tenants._default_manager
        manager.all().delete()  # written again whole and merged: one row per key
        rows = [
            table.all_tenants(**dict(zip(table.key, key, strict=True)), count=n)
            for key, n in everything[table].items()
            if n
        ]
        manager.bulk_create(rows, batch_size=UPSERT_BATCH)
    return differences


def count_if_never_counted(using: str = "default") -> list[Difference]:
    """Count every certificate when the summaries hold nothing yet and there are certificates: after the upgrade
    that adds the summaries. Nothing to do (no query beyond two existence checks) otherwise."""
    tables = connections[using].introspection.table_names()
    if AllEndingTally._meta.db_table not in tables:  # migrated back to before the summaries
        return []
    if AllEndingTally.objects.using(using).exists() or not Certificate.objects.using(using).active().exists():
        return []
    return rebuild()
