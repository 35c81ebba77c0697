"""Where each certificate is assigned, kept per tenant and reused until the tenant's certificates or assignments
change: the expiry dashboards show it on every row.

A tenant's entry holds the certificates looked up so far (assigned or not), filed under the tenant's revision
version (``revisions``), so any change makes it unreachable at once: what is read is what a fresh query would give.
A page looks up only its own rows that the entry lacks, so the first view after a write costs what its page holds,
not what the tenant holds. The cache is Django's (CACHES); the default, per process, is enough, as the versions are
read from the database on every request.
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.core.cache import cache

from . import revisions, usage

LONGEST_SECONDS = 24 * 3600  # with no moment ahead (every certificate expired), still let the entry go eventually


def assignment_labels(certificates: Sequence[tuple[Any, UUID]], known: dict[Any, UUID]) -> dict[UUID, list[str]]:
    """Where each certificate is assigned, as usage.labels_for gives it, for (tenant id, certificate id) pairs.
    ``known``: the tenants' versions (revisions.versions), read before the certificates were.

    No query once the certificates have been looked up under their tenants' versions; otherwise one per usage
    provider, for those not yet looked up. Entries only grow under a version: each piece was read after the version
    was, so none is older than what the version stands for."""
    keys = {tenant: f"assignment-labels:{revisions.version_key(tenant, known)}" for tenant, _ in certificates}
    found = cache.get_many(list(keys.values()))
    # Keyed by the id's text: a UUID object costs several times as much to unpickle on every later read.
    missing = [(tenant, pk) for tenant, pk in certificates if pk.hex not in found.get(keys[tenant], {})]
    if missing:
        looked_up = usage.labels_for(pk for _, pk in missing)
        grown: dict[str, dict[str, list[str]]] = {}
        for tenant, pk in missing:
            key = keys[tenant]
            if key not in grown:
                grown[key] = found[key] = dict(found.get(key, {}))
            grown[key][pk.hex] = looked_up.get(pk, [])
        cache.set_many(grown, LONGEST_SECONDS)
    return {pk: found[keys[tenant]][pk.hex] for tenant, pk in certificates}
