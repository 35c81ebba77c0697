"""What pages compute from a tenant's certificates, computed once and reused for as long as it is exact: the expiry
overview of a set of tenants, and where each certificate is assigned.

An overview (status counts, chart, list lengths) reads every active certificate in scope: across a hundred tenants
that is the most expensive query of the dashboards. It can only change when

- the certificates or their assignments change: the tenants' revision versions then change (revisions.py), and
  they are part of the cache key, so the old entry is never read again (the same holds for the assignment labels,
  kept per tenant);
- the clock reaches a certificate's start or end, or the start of one of its expiry windows: the entry carries the
  first such moment (expiry.next_change) and is recomputed from then on.

So a cached overview is the one a fresh query would give, not an approximation. The cache is Django's (CACHES);
the default, per process, is enough, as the versions are read from the database on every request.
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import cache

from . import expiry, revisions, usage
from .models import Certificate, CertificateQuerySet

LONGEST_SECONDS = 24 * 3600  # with no moment ahead (every certificate expired), still let the entry go eventually


def scope(tenant_ids: Sequence[Any] | None, assigned: str) -> CertificateQuerySet:
    """Active certificates of these tenants (every tenant when None), narrowed by assignment ("yes", "no", "")."""
    certificates = Certificate.objects.active()
    if tenant_ids is not None:
        certificates = certificates.filter(tenant_id__in=tenant_ids)
    return expiry.with_assignment(certificates, assigned)


def _key(tenant_ids: Sequence[Any] | None, assigned: str, known: dict[Any, UUID]) -> str:
    who = "all" if tenant_ids is None else ",".join(revisions.version_key(pk, known) for pk in sorted(tenant_ids))
    text = f"{who}|{assigned}|{expiry.windows()}|{settings.TIME_ZONE}|{revisions.digest(known)}"
    return "expiry-overview:" + hashlib.sha256(text.encode()).hexdigest()


def overview(tenant_ids: Sequence[Any] | None, assigned: str, now: datetime, known: dict[Any, UUID]) -> expiry.Overview:
    """``known``: revisions.versions(tenant_ids), read before this (and before any certificate: see revisions)."""
    key = _key(tenant_ids, assigned, known)
    kept = cache.get(key)
    if kept is not None:
        computed, until, groups = kept
        if computed <= now and (until is None or now < until):
            return expiry.Overview(now, groups)
    certificates = scope(tenant_ids, assigned)
    fresh = expiry.overview(certificates, now)
    until = expiry.next_change(certificates, now)
    seconds = LONGEST_SECONDS if until is None else min((until - now).total_seconds(), LONGEST_SECONDS)
    if seconds >= 1:
        cache.set(key, (now, until, fresh.groups), int(seconds))
    return fresh


def assignment_labels(certificates: Sequence[tuple[Any, UUID]], known: dict[Any, UUID]) -> dict[UUID, list[str]]:
    """Where each certificate is assigned, as usage.labels_for gives it, for (tenant id, certificate id) pairs.

    Kept per tenant under the tenant's version: a page's rows then need no query at all once their tenants have
    been seen, and at most one per usage provider for those not seen since their last change."""
    keys = {tenant: f"assignment-labels:{revisions.version_key(tenant, known)}" for tenant, _ in certificates}
    found = cache.get_many(list(keys.values()))
    missing = [tenant for tenant, key in keys.items() if key not in found]
    if missing:
        assigned = usage.labels_for_tenants(missing)
        # Keyed by the id's text: a UUID object costs several times as much to unpickle on every later read.
        fresh = {keys[t]: {pk.hex: labels for pk, labels in assigned.get(t, {}).items()} for t in missing}
        cache.set_many(fresh, LONGEST_SECONDS)
        found.update(fresh)
    return {pk: found[keys[tenant]].get(pk.hex, []) for tenant, pk in certificates}
