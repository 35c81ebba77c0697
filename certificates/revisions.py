"""Tell cached summaries that a tenant's certificates changed (see ``CertificateRevision``).

A tenant's version is replaced inside the writer's transaction, after its writes, so the new version and the new rows
become visible together. Readers take the versions *before* they read the rows: a summary stored under a version is
never older than the rows that version stands for.

Certificates and the rows that assign them (whatever the assigning apps register with ``watch``) announce their own
changes: saves and deletes through signals, which also catch the cascades of a purge, and bulk writes
(``QuerySet.update``, ``bulk_create``, ``bulk_update``) through their queryset, a ``WatchedQuerySet``. No caller has
to remember to.
"""

import hashlib
import uuid
from collections.abc import Collection, Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from portal.accounts.models import Tenant
from portal.accounts.reading import as_uuid

from .models import CertificateRevision, WatchedQuerySet


def changed(tenant_id: Any) -> None:
    CertificateRevision.objects.replace([tenant_id])


def versions(tenant_ids: Iterable[Any] | None) -> dict[Any, uuid.UUID]:
    """The current version of each of these tenants (every tenant when None) that has one (one query). A tenant
    without one has seen no change since versions were introduced; its first change gives it one."""
    if tenant_ids is None:
        return dict(CertificateRevision.objects.values_list("tenant_id", "version"))
    wanted = list(tenant_ids)
    if not wanted:
        return {}
    # Read on every page of a tenant: a statement written here costs a fraction of the ORM's building of it.
    table = connection.ops.quote_name(CertificateRevision._meta.db_table)
    field = CertificateRevision._meta.get_field("tenant")
    ids = [field.get_db_prep_value(pk, connection) for pk in wanted]
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tenant_id, version FROM {table} WHERE tenant_id IN ({marks})", ids)  # noqa: S608
        rows = cursor.fetchall()
    return {as_uuid(tenant): as_uuid(version) for tenant, version in rows}


def tenants_and_versions(tenant_ids: Collection[Any] | None) -> dict[uuid.UUID, uuid.UUID | None]:
    """Every tenant (or these, those that still exist) with its version, None for a tenant without one yet (unlike
    ``versions``, which lists only the tenants that have one): one query. A tenant that is gone is not listed."""
    quote = connection.ops.quote_name
    tenants, rows = quote(Tenant._meta.db_table), quote(CertificateRevision._meta.db_table)
    sql = f"SELECT t.id, r.version FROM {tenants} t LEFT JOIN {rows} r ON r.tenant_id = t.id"  # noqa: S608
    params: list[Any] = []
    if tenant_ids is not None:
        prepare = Tenant._meta.pk.get_db_prep_value
        params = [prepare(pk, connection) for pk in tenant_ids]
        sql += f" WHERE t.id IN ({', '.join(['%s'] * len(params))})" if params else " WHERE 1 = 0"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":  # its driver gives UUIDs already
        return dict(rows)
    return {as_uuid(tenant): None if version is None else as_uuid(version) for tenant, version in rows}


def version_key(tenant_id: Any, known: dict[Any, uuid.UUID]) -> str:
    """The part of a cache key that stands for one tenant's state."""
    version = known.get(tenant_id)
    return f"{tenant_id}@{version.hex if version else 'initial'}"


def digest(known: dict[Any, uuid.UUID]) -> str:
    """One value standing for the state of all tenants in ``known`` (from ``versions``): it changes whenever any
    of their certificates or assignments does, and when a tenant gains its first version."""
    text = ",".join(version_key(tenant, known) for tenant in sorted(known))
    return hashlib.sha256(text.encode()).hexdigest()


def state(tenant_ids: Iterable[Any] | None) -> str:
    """One value standing for the state of these tenants' certificates (every tenant when None), read in one query
    that returns one row: it changes whenever any of their certificates or assignments does. Across every tenant it
    is computed by the database, so that a page over a thousand tenants does not read a thousand versions."""
    if tenant_ids is not None:
        return digest(versions(tenant_ids))
    table = connection.ops.quote_name(CertificateRevision._meta.db_table)
    if connection.vendor == "postgresql":
        # Every write brings a new random UUID as the version of the tenants it writes, so the number of rows and
        # the sum of a 64-bit hash of each version change with any version replaced, added or removed (but for a
        # chance of one in 2**64), in any order: no sort and no string of a thousand versions to build.
        sql = "SELECT count(*) || ':' || coalesce(sum(hashtextextended(version::text, 0)), 0) FROM {}"
    else:
        sql = "SELECT group_concat(tenant_id || '@' || version, ',') FROM (SELECT * FROM {} ORDER BY tenant_id)"
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table))
        (value,) = cursor.fetchone()
    return hashlib.sha256((value or "").encode()).hexdigest()


def _row_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:  # not while loading fixtures
        changed(instance.tenant_id)


def watch(model: type[Model]) -> None:
    """Count every save and delete of ``model`` (which has a ``tenant`` foreign key) as a change of its tenant's
    certificates. Deletes include cascades: with a receiver connected, Django deletes row by row and signals each.
    Its queryset must be a ``WatchedQuerySet``, which counts the bulk writes that send no signals."""
    label = model._meta.label_lower
    if not isinstance(model._default_manager.all(), WatchedQuerySet):
        raise ImproperlyConfigured(f"{model._meta.label}'s queryset must be a WatchedQuerySet: its bulk writes count")
    post_save.connect(_row_changed, sender=model, dispatch_uid=f"revision-saved-{label}")
    post_delete.connect(_row_changed, sender=model, dispatch_uid=f"revision-deleted-{label}")
