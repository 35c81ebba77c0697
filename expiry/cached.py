"""The expiry overview of a set of tenants, computed once and reused for as long as it is exact.

An overview (status counts, chart, list lengths) reads every active certificate in scope: across a hundred tenants
that is the most expensive query of the dashboards. It can only change when

- the certificates or their assignments change: the tenants' revision versions then change
  (``certificates.revisions``), and they are part of the cache key, so the old entry is never read again;
- the clock reaches a certificate's start or end, or the start of one of its expiry windows: the entry carries the
  first such moment (``overview.next_change``) and is recomputed from then on.

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

from certificates import revisions
from certificates.models import Certificate, CertificateQuerySet
from certificates.summaries import LONGEST_SECONDS

from . import overview as expiry


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
