"""Keeping the expiry summaries (``EndingTally``, ``StartingTally``) equal to the certificates they count.

Every write to a tenant's certificates or their assignments sends ``certificates_changed`` inside its transaction,
after locking the tenant's revision row. The receiver recounts that tenant's active certificates (a query over the
tenant's rows, not every tenant's, and one per usage provider), compares the counts with the tenant's summary rows
and applies the difference to them and to the all-tenant rows, in the same transaction: a summary and the rows it
counts commit together, and a write in one tenant touches the all-tenant rows of the days it changed, nothing else.

Because the recount starts from the rows, it also mends a tenant whose summaries were wrong. ``rebuild`` does it for
every tenant and the all-tenant rows, and reports what it mended.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, connections, transaction
from django.utils import timezone

from certificates import usage
from certificates.models import Certificate, CertificateQuerySet, CertificateRevision
from portal.accounts.models import Tenant

from .models import ALL_TENANTS, EndingTally, StartingTally

# (assigned, ends) and (assigned, starts, ends)
EndingKey = tuple[bool, date]
StartingKey = tuple[bool, date, date]
UPSERT_BATCH = 500  # rows per statement: a rebuild writes many, and SQLite caps the parameters of one


@dataclass(frozen=True)
class Counts:
    ending: Counter[EndingKey]
    starting: Counter[StartingKey]


@dataclass(frozen=True)
class Difference:
    """One summary row that did not match the certificates: what it said and what they count."""

    scope: str
    table: str  # "ending" or "starting"
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


def _counted(certificates: CertificateQuerySet) -> Counts:
    """The active certificates of ``certificates`` (one tenant's) by assignment, start day and end day: one query
    for their days, one per usage provider for which of them are assigned."""
    rows = list(certificates.order_by().values_list("pk", "not_valid_before", "not_valid_after"))
    assigned = {pk for pk, labels in usage.labels_for(pk for pk, _, _ in rows).items() if labels}
    ending: Counter[EndingKey] = Counter()
    starting: Counter[StartingKey] = Counter()
    for pk, not_valid_before, not_valid_after in rows:
        starts, ends = timezone.localdate(not_valid_before), timezone.localdate(not_valid_after)
        starting[(pk in assigned, starts, ends)] += 1
        ending[(pk in assigned, ends)] += 1
    return Counts(ending, starting)


def _kept(scopes: list[str]) -> dict[str, Counts]:
    """The summary rows of these scopes (two queries)."""
    kept = {scope: Counts(Counter(), Counter()) for scope in scopes}
    for scope, assigned, ends, n in EndingTally.objects.filter(scope__in=scopes).values_list(
        "scope", "assigned", "ends", "count"
    ):
        kept[scope].ending[(assigned, ends)] = n
    for scope, assigned, starts, ends, n in StartingTally.objects.filter(scope__in=scopes).values_list(
        "scope", "assigned", "starts", "ends", "count"
    ):
        kept[scope].starting[(assigned, starts, ends)] = n
    return kept


def _differences(kept: Counter[Any], counted: Counter[Any]) -> dict[Any, int]:
    return {key: counted[key] - kept[key] for key in kept.keys() | counted.keys() if counted[key] != kept[key]}


def _add(model: type[EndingTally] | type[StartingTally], scopes: Iterable[str], changes: dict[Any, int]) -> None:
    """Add ``changes`` (key -> difference) to the rows of each scope, making rows that are missing and deleting
    those that fall to 0. An upsert that adds, so two transactions adding to one all-tenant row both count."""
    if not changes:
        return
    fields = ["scope", "assigned", "ends"] if model is EndingTally else ["scope", "assigned", "starts", "ends"]
    key_fields = ["scope", "assigned", "ends"] if model is EndingTally else ["scope", "starts", "assigned", "ends"]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in [*fields, "count"])
    conflict = ", ".join(connection.ops.quote_name(name) for name in key_fields)
    count = connection.ops.quote_name("count")
    values = [(scope, *key, n) for scope in sorted(scopes) for key, n in sorted(changes.items())]
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(values), UPSERT_BATCH):
            batch = values[start : start + UPSERT_BATCH]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} "  # noqa: S608  (our names)
                f"ON CONFLICT ({conflict}) DO UPDATE SET {count} = {table}.{count} + excluded.{count}",
                [value for line in batch for value in line],
            )
    model.objects.filter(scope__in=list(scopes), count=0).delete()


def _apply(scope: str, kept: Counts, counted: Counts, *, also_all: bool) -> Iterator[Difference]:
    ending = _differences(kept.ending, counted.ending)
    starting = _differences(kept.starting, counted.starting)
    scopes = [scope, ALL_TENANTS] if also_all else [scope]
    _add(EndingTally, scopes, ending)
    _add(StartingTally, scopes, starting)
    for key in ending:
        yield Difference(scope, "ending", key, kept.ending[key], counted.ending[key])
    for key in starting:
        yield Difference(scope, "starting", key, kept.starting[key], counted.starting[key])


def recount(tenant_ids: Iterable[Any]) -> list[Difference]:
    """Bring these tenants' summary rows, and the all-tenant rows by the same amounts, to what their certificates
    count now. Run inside the writing transaction, with the tenants' revision rows locked (``certificates_changed``).
    Returns what changed."""
    scopes = sorted(str(tenant) for tenant in tenant_ids)
    kept = _kept(scopes)
    changed: list[Difference] = []
    for scope in scopes:
        counted = _counted(Certificate.objects.active().filter(tenant_id=scope))
        changed.extend(_apply(scope, kept[scope], counted, also_all=True))
    return changed


def on_certificates_changed(sender: Any, tenant_ids: Iterable[Any], **kwargs: Any) -> None:
    recount(tenant_ids)


@transaction.atomic
def rebuild() -> list[Difference]:
    """Count every tenant's certificates again, and all of them together, and make the summaries say so. Returns
    each row that was wrong (none, when the summaries were kept as they should be).

    Writers wait while it runs: it locks every tenant's revision row first, as each write does its tenant's."""
    tenants = list(Tenant.objects.order_by("pk").values_list("pk", flat=True))
    CertificateRevision.objects.replace(tenants, announce=False)
    known = {str(pk) for pk in tenants}
    orphaned = set(EndingTally.objects.values_list("scope", flat=True)) | set(
        StartingTally.objects.values_list("scope", flat=True)
    )
    orphaned -= known | {ALL_TENANTS}
    differences: list[Difference] = []
    everything = Counts(Counter(), Counter())
    for scope in sorted(known | orphaned):  # a scope with rows and no tenant counts nothing
        certificates = Certificate.objects.active().filter(tenant_id=scope) if scope in known else None
        counted = _counted(certificates) if certificates is not None else Counts(Counter(), Counter())
        differences.extend(_apply(scope, _kept([scope])[scope], counted, also_all=False))
        everything.ending.update(counted.ending)
        everything.starting.update(counted.starting)
    differences.extend(_apply(ALL_TENANTS, _kept([ALL_TENANTS])[ALL_TENANTS], everything, also_all=False))
    return differences


def count_if_never_counted(using: str = "default") -> list[Difference]:
    """Count every certificate when the summaries hold nothing yet and there are certificates: after the upgrade
    that adds the summaries. Nothing to do (no query beyond two existence checks) otherwise."""
    tables = connections[using].introspection.table_names()
    if EndingTally._meta.db_table not in tables:  # migrated back to before the summaries
        return []
    if EndingTally.objects.using(using).exists() or not Certificate.objects.using(using).active().exists():
        return []
    return rebuild()
