"""The expiry overview of a set of tenants, read from the summaries and kept, per tenant, for as long as it is exact.

Each process keeps every tenant's counts it has read (``summary.TenantCounts``: by bucket, month and assignment),
under the tenant's revision version, and the sum of all tenants' counts. A tenant's counts can only change when

- its certificates or their assignments change: its revision version then changes (``certificates.revisions``);
- the clock reaches one of its certificates' start or end, or the start of one of its expiry windows, or midnight:
  its counts carry the first such moment (``TenantCounts.until``).

So a page never trusts the process to know about writes. A one-tenant page compares the tenant's state, read from
the database on every request, with the state its kept counts were read under. The all-tenant page reads one value
for every tenant's state (``revisions.state(None)``); only when it differs from the one last seen does it read each
tenant's version (one query) and read again, in the same few queries for all of them, the tenants whose version
changed or whose counts' moment has passed, taking their old counts from the sum and adding the new. Right after a
write anywhere, the all-tenant page thus reads one tenant's summaries, not every tenant's; a process that has seen
no all-tenant page yet, or midnight (when every tenant's day buckets move), reads every tenant at once.

Tenants are read again under a lock: threads of one process take turns, and the sum always matches the tenants'
counts it adds up.
"""

import threading
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.conf import settings

from certificates import revisions
from portal.accounts.reading import as_uuid

from . import overview as expiry
from . import summary
from .summary import Key, TenantCounts

UNKNOWN = object()  # the version of counts read for a one-tenant page, which knows the tenant's state, not its version
Projected = dict[tuple[str, date], int]


@dataclass
class Kept:
    """One tenant's counts, and the state they were read under: ``stamp`` as ``revisions.state([tenant])`` says
    it, ``version`` as the tenant's revision row does (None: no row yet; UNKNOWN: not read)."""

    counts: TenantCounts
    stamp: str
    version: Any
    projections: dict[str, Projected] = field(default_factory=dict)

    def projected(self, assigned: str) -> Projected:
        found = self.projections.get(assigned)
        if found is None:
            found = self.projections[assigned] = summary.project(self.counts.groups, assigned)
        return found


def stamp(tenant_id: UUID, version: UUID | None) -> str:
    """What ``revisions.state([tenant_id])`` says when the tenant's version is ``version`` (None: no row)."""
    return revisions.digest({tenant_id: version} if version is not None else {})


class Memo:
    """What one process keeps: each tenant's counts, their sum, and the all-tenant state they match."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.tenants: dict[UUID, Kept] = {}
        self.total: Counter[Key] = Counter()
        self.seen: str | None = None  # the all-tenant state the kept tenants were last matched with; None: never
        self.since: datetime | None = None
        self.until: datetime | None = None
        self.projections: dict[str, Projected] = {}
        self.settings = _settings()

    def _put(self, tenant: UUID, kept: Kept | None) -> None:
        """Keep ``kept`` for this tenant (forget the tenant when None), keeping the sum equal to the tenants'."""
        old = self.tenants.pop(tenant, None)
        if old is not None:
            summary.add(self.total, old.counts.groups, -1)
        if kept is not None:
            self.tenants[tenant] = kept
            summary.add(self.total, kept.counts.groups)
        self.projections = {}
        self.since = self.until = None

    def _read(self, chosen: dict[UUID, tuple[str, Any]], now: datetime, *, every_tenant: bool = False) -> None:
        """Read these tenants' counts again: tenant -> (stamp, version) they are read under. ``every_tenant``:
        they are all the tenants there are."""
        if not chosen:
            return
        read = summary.tenant_counts(chosen.keys(), now, every_tenant=every_tenant)
        for tenant, (tenant_stamp, version) in chosen.items():
            self._put(tenant, Kept(read[tenant], tenant_stamp, version))

    def _matches(self, tenant: UUID, kept: Kept | None, version: UUID | None) -> bool:
        if kept is None:
            return False
        if kept.version is UNKNOWN and kept.stamp == stamp(tenant, version):
            kept.version = version
        return kept.version == version

    def _catch_up(self, known: dict[UUID, UUID | None], now: datetime, *, every_tenant: bool = False) -> None:
        """Make the kept counts of the tenants in ``known`` (tenant -> version, read from the database) exact at
        ``now``. ``every_tenant``: ``known`` is every tenant there is."""
        chosen: dict[UUID, tuple[str, Any]] = {}
        tenants = self.tenants
        for tenant, version in known.items():
            kept = tenants.get(tenant)
            if kept is not None and kept.version == version and kept.counts.since <= now < kept.counts.until:
                continue  # the common case, made cheap: most of a thousand tenants have not changed
            if not self._matches(tenant, kept, version) or (kept and not kept.counts.exact_at(now)):
                chosen[tenant] = (stamp(tenant, version), version)
        self._read(chosen, now, every_tenant=every_tenant and len(chosen) == len(known))

    def every_tenant(self, assigned: str, now: datetime, state: str) -> Projected:
        if state != self.seen:
            known = revisions.tenants_and_versions(None)
            for gone in self.tenants.keys() - known.keys():
                self._put(gone, None)
            self._catch_up(known, now, every_tenant=True)
            self.seen = state
        elif not (self.since is not None and self.until is not None and self.since <= now < self.until):
            chosen = {
                tenant: (kept.stamp, kept.version)
                for tenant, kept in self.tenants.items()
                if not kept.counts.exact_at(now)
            }
            self._read(chosen, now, every_tenant=len(chosen) == len(self.tenants))
        if self.since is None or self.until is None:
            self.since = max((kept.counts.since for kept in self.tenants.values()), default=now)
            self.until = min((kept.counts.until for kept in self.tenants.values()), default=summary.next_midnight(now))
        found = self.projections.get(assigned)
        if found is None:
            found = self.projections[assigned] = summary.project(dict(self.total), assigned)
        return found

    def one_tenant(self, tenant: UUID, assigned: str, now: datetime, state: str) -> Projected:
        kept = self.tenants.get(tenant)
        if kept is None or kept.stamp != state or not kept.counts.exact_at(now):
            version = kept.version if kept is not None and kept.stamp == state else UNKNOWN
            self._read({tenant: (state, version)}, now)
            kept = self.tenants[tenant]
        return kept.projected(assigned)

    def some_tenants(self, tenant_ids: Collection[UUID], assigned: str, now: datetime) -> Projected:
        known = revisions.tenants_and_versions(tenant_ids)
        for gone in set(tenant_ids) - known.keys():
            self._put(gone, None)
        self._catch_up(known, now)
        total: Counter[Key] = Counter()
        for tenant in known:
            summary.add(total, self.tenants[tenant].counts.groups)
        return summary.project(dict(total), assigned)


def _settings() -> tuple[Any, ...]:
    """What the buckets depend on besides the certificates and the clock."""
    return tuple(expiry.windows()), settings.TIME_ZONE


memo = Memo()


def overview(tenant_ids: Sequence[Any] | None, assigned: str, now: datetime, state: str) -> expiry.Overview:
    """``state``: revisions.state(tenant_ids), read before this (and before any summary: see revisions)."""
    with memo.lock:
        if memo.settings != _settings():
            memo.clear()
        if tenant_ids is None:
            groups = memo.every_tenant(assigned, now, state)
        elif len(tenant_ids) == 1:
            groups = memo.one_tenant(as_uuid(tenant_ids[0]), assigned, now, state)
        else:
            groups = memo.some_tenants({as_uuid(pk) for pk in tenant_ids}, assigned, now)
    return expiry.Overview(now, groups)


def forget() -> None:
    """Drop everything kept, as in a process that has shown no overview yet."""
    with memo.lock:
        memo.clear()
