"""The expiry overview of a set of tenants, read from the summaries once and reused for as long as it is exact.

Reading the summaries costs a few queries over a few thousand rows across all tenants; a page seen again costs none.
An overview can only change when

- the certificates or their assignments change: the tenants' revision versions then change
  (``certificates.revisions``), and their ``state`` is part of the cache key, so the old entry is never read again;
  the next view reads the summaries, which that same write kept current: nothing is counted again;
- the clock reaches a certificate's start or end, or the start of one of its expiry windows: the entry carries the
  first such moment (``summary.valid_until``) and is read again from then on.

So a cached overview is the one a fresh read would give, on every node: the versions are read from the database on
every request, and the cache (Django's CACHES, per process by default, or shared) only holds what they name.
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from . import overview as expiry
from . import summary


def _key(tenant_ids: Sequence[Any] | None, assigned: str, state: str) -> str:
    who = "all" if tenant_ids is None else ",".join(str(pk) for pk in sorted(tenant_ids))
    text = f"{who}|{assigned}|{expiry.windows()}|{settings.TIME_ZONE}|{state}"
    return "expiry-overview:" + hashlib.sha256(text.encode()).hexdigest()


def overview(tenant_ids: Sequence[Any] | None, assigned: str, now: datetime, state: str) -> expiry.Overview:
    """``state``: revisions.state(tenant_ids), read before this (and before any summary: see revisions)."""
    key = _key(tenant_ids, assigned, state)
    kept = cache.get(key)
    if kept is not None:
        computed, until, groups = kept
        if computed <= now < until:
            return expiry.Overview(now, groups)
    fresh = summary.overview(tenant_ids, assigned, now)
    until = summary.valid_until(tenant_ids, assigned, now)
    seconds = (until - now).total_seconds()
    if seconds >= 1:
        cache.set(key, (now, until, fresh.groups), int(seconds))
    return fresh
