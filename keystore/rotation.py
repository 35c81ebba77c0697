"""Master-key rotation: re-wrap every tenant data key under the current master key.

Tenant keys are re-wrapped in batches, one transaction each with the rows locked, so a rotation killed at any point
leaves every key either under the old master key or under the new one, never in between; running it again continues
where it stopped (redoing at most the one batch that had not committed). The private keys themselves are not touched:
they are sealed with the tenant data keys, which do not change.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from portal.audit.log import COMMAND, record

from . import envelope
from .masterkey import MasterKeyProvider, current_master_key, master_key_by_id
from .models import TenantKey
from .sealing import KeystoreError, tenant_aad


@dataclass
class RotationResult:
    rewrapped: int = 0
    already_current: int = 0
    failed: list[str] = field(default_factory=list)  # one message per tenant key that could not be re-wrapped


def wrapped_key_counts() -> dict[str, int] | None:
    """How many tenant keys each master key wraps; None when the table does not exist yet or the database is down."""
    try:
        if TenantKey._meta.db_table not in connection.introspection.table_names():
            return None
        rows = TenantKey.objects.values("master_key_id").annotate(n=Count("pk")).order_by("master_key_id")
        return {row["master_key_id"]: row["n"] for row in rows}
    except DatabaseError:
        return None


def pending_tenant_keys(current: MasterKeyProvider) -> list[int]:
    return list(TenantKey.objects.exclude(master_key_id=current.key_id).order_by("pk").values_list("pk", flat=True))


BATCH_SIZE = 100


@sensitive_variables("data_key", "old", "current", "wrapped")
def _rewrapped(row: TenantKey, current: MasterKeyProvider) -> bytes:
    """The row's data key wrapped under ``current``; KeystoreError when it cannot be opened."""
    old = master_key_by_id(row.master_key_id)
    slug = row.tenant.slug
    if old is None:
        raise KeystoreError(
            f"tenant {slug}: its key is wrapped with master key {row.master_key_id}, which is not configured"
        )
    aad = tenant_aad(row.tenant_id)
    try:
        data_key = old.unwrap(bytes(row.wrapped_key), aad)
    except envelope.TamperedError:
        raise KeystoreError(f"tenant {slug}: its key does not open with master key {old.key_id}") from None
    try:
        wrapped = current.wrap(data_key, aad)
        reopened = current.unwrap(wrapped, aad)
    except envelope.TamperedError:
        reopened = b""
    if reopened != data_key:  # never commit what would not open
        raise KeystoreError(f"tenant {slug}: the re-wrapped key does not open")
    return wrapped


def rewrap_batch(pks: list[int], current: MasterKeyProvider, result: RotationResult) -> None:
    """Re-wrap these tenant keys in one transaction, rows locked, with one audit entry.

    Each key is either re-wrapped completely or left as it was; a batch bounds what an interruption loses (the next run
    redoes it) while keeping commits, and audit-chain appends, to one per batch rather than one per tenant.
    """
    with transaction.atomic():
        rows = list(TenantKey.objects.select_for_update().select_related("tenant").filter(pk__in=pks).order_by("pk"))
        result.already_current += len(pks) - len(rows)
        changed, previous_ids, now = [], set(), timezone.now()
        for row in rows:
            if row.master_key_id == current.key_id:  # another run got there first
                result.already_current += 1
                continue
            try:
                row.wrapped_key = _rewrapped(row, current)
            except KeystoreError as exc:
                result.failed.append(str(exc))
                continue
            previous_ids.add(row.master_key_id)
            row.master_key_id, row.rewrapped = current.key_id, now
            changed.append(row)
        if changed:
            TenantKey.objects.bulk_update(changed, ["wrapped_key", "master_key_id", "rewrapped"])
            record(
                "tenant-keys-rewrapped",
                by=COMMAND,  # master keys are rotated from the command line only (rotate_master_key)
                details={
                    "from": sorted(previous_ids),
                    "to": current.key_id,
                    "tenants": [row.tenant.slug for row in changed],
                },
            )
        result.rewrapped += len(changed)


def rotate(
    pks: Iterable[int], *, batch_size: int = BATCH_SIZE, on_step: Callable[[int], None] = lambda n: None
) -> RotationResult:
    """Re-wrap the given tenant keys under the current master key, ``batch_size`` per transaction."""
    current = current_master_key()
    result = RotationResult()
    pending = list(pks)
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        rewrap_batch(batch, current, result)
        on_step(len(batch))
    return result
