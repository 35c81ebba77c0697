"""Master-key rotation: re-wrap every tenant data key under the current master key.

Each tenant key is re-wrapped in its own transaction, with its row locked, so a rotation killed at any point leaves
every key either under the old master key or under the new one, never in between; running it again continues where
it stopped. The private keys themselves are not touched: they are sealed with the tenant data keys, which do not change.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from portal.audit.log import record

from . import envelope
from .api import KeystoreError, tenant_aad
from .masterkey import MasterKey, current_master_key, master_key_by_id
from .models import TenantKey


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


def pending_tenant_keys(current: MasterKey) -> list[int]:
    return list(TenantKey.objects.exclude(master_key_id=current.key_id).order_by("pk").values_list("pk", flat=True))


@sensitive_variables("data_key", "old", "current", "wrapped")
def rewrap_tenant_key(pk: int, current: MasterKey) -> bool:
    """Re-wrap one tenant key under ``current``; False when it already was (another run got there first)."""
    with transaction.atomic():
        row = TenantKey.objects.select_for_update().select_related("tenant").get(pk=pk)
        if row.master_key_id == current.key_id:
            return False
        old = master_key_by_id(row.master_key_id)
        slug = row.tenant.slug
        if old is None:
            raise KeystoreError(
                f"tenant {slug}: its key is wrapped with master key {row.master_key_id}, which is not configured"
            )
        aad = tenant_aad(row.tenant_id)
        try:
            data_key = envelope.open_sealed(old.key, bytes(row.wrapped_key), aad)
        except envelope.TamperedError:
            raise KeystoreError(f"tenant {slug}: its key does not open with master key {old.key_id}") from None
        wrapped = envelope.seal(current.key, data_key, aad)
        if envelope.open_sealed(current.key, wrapped, aad) != data_key:  # never commit what would not open
            raise KeystoreError(f"tenant {slug}: the re-wrapped key does not open")
        previous_id = row.master_key_id
        row.wrapped_key = wrapped
        row.master_key_id = current.key_id
        row.rewrapped = timezone.now()
        row.save(update_fields=["wrapped_key", "master_key_id", "rewrapped"])
        record("tenant-key-rewrapped", tenant=row.tenant, details={"from": previous_id, "to": current.key_id})
    return True


def rotate(pks: Iterable[int], *, on_step: Callable[[], None] = lambda: None) -> RotationResult:
    """Re-wrap the given tenant keys under the current master key, one transaction each."""
    current = current_master_key()
    result = RotationResult()
    for pk in pks:
        try:
            if rewrap_tenant_key(pk, current):
                result.rewrapped += 1
            else:
                result.already_current += 1
        except TenantKey.DoesNotExist:
            result.already_current += 1
        except KeystoreError as exc:
            result.failed.append(str(exc))
        on_step()
    return result
