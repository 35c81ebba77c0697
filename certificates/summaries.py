"""Where each certificate is assigned, per tenant, computed once and reused until the tenant's certificates or
assignments change: the certificate list and the expiry dashboards show it on every row.

Entries are filed under the tenant's revision version (``revisions``), so any change makes them unreachable at once:
what is read is what a fresh query would give. The cache is Django's (CACHES); the default, per process, is enough,
as the versions are read from the database on every request.
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.core.cache import cache

from . import revisions, usage
from .models import Certificate

LONGEST_SECONDS = 24 * 3600  # with no moment ahead (every certificate expired), still let the entry go eventually


def labels_for_tenants(tenant_ids: list[Any]) -> dict[Any, dict[UUID, list[str]]]:
    """tenant id -> {certificate id: labels} for every assigned certificate of these tenants: one query for their
    certificates, then one per usage provider for the labels of those it uses (by their ids: a filter on "assigned
    anywhere" would make the database gather every tenant's assignments first)."""
    certificates = dict(Certificate.objects.filter(tenant_id__in=tenant_ids).values_list("pk", "tenant_id"))
    result: dict[Any, dict[UUID, list[str]]] = {tenant: {} for tenant in tenant_ids}
    for pk, labels in usage.labels_for(certificates).items():
        if labels:
            result[certificates[pk]][pk] = labels
    return result


def assignment_labels(certificates: Sequence[tuple[Any, UUID]], known: dict[Any, UUID]) -> dict[UUID, list[str]]:
    """Where each certificate is assigned, as usage.labels_for gives it, for (tenant id, certificate id) pairs.

    Kept per tenant under the tenant's version: a page's rows then need no query at all once their tenants have
    been seen, and at most one per usage provider for those not seen since their last change."""
    keys = {tenant: f"assignment-labels:{revisions.version_key(tenant, known)}" for tenant, _ in certificates}
    found = cache.get_many(list(keys.values()))
    missing = [tenant for tenant, key in keys.items() if key not in found]
    if missing:
        assigned = labels_for_tenants(missing)
        # Keyed by the id's text: a UUID object costs several times as much to unpickle on every later read.
        fresh = {keys[t]: {pk.hex: labels for pk, labels in assigned.get(t, {}).items()} for t in missing}
        cache.set_many(fresh, LONGEST_SECONDS)
        found.update(fresh)
    return {pk: found[keys[tenant]].get(pk.hex, []) for tenant, pk in certificates}
