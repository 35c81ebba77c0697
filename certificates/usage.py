"""Where certificates are in use. Apps that assign certificates register a provider here, so that the certificate
pages (and the guard against deleting a certificate in use) see every assignment without importing those apps.

Providers answer for many certificates at once, so a list page costs one query per provider, whatever its length.
This module is a leaf: it imports nothing of the apps, so that any of them may register.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import Q

from portal.accounts.reading import as_uuid


@dataclass(frozen=True)
class UsageProvider:
    name: str
    # certificate ids -> {id: ["IVR profile 'record'", ...]} for those in use
    labels: Callable[[list[UUID]], dict[UUID, list[str]]]
    # a filter on Certificate that keeps the certificates this provider uses
    assigned: Callable[[], Q]
    # certificate id -> how many open requests to use it would end with its deletion (None: the app has none)
    pending: Callable[[UUID], int] | None = None


_providers: dict[str, UsageProvider] = {}


def register(provider: UsageProvider) -> None:
    _providers[provider.name] = provider


ID_BATCH = 2000  # certificate ids per provider query: SQLite caps the parameters of one


def labels_for(certificate_ids: Iterable[UUID]) -> dict[UUID, list[str]]:
    """Where each of these certificates is used: one query per provider (per 2,000 certificates), each probing its
    index for the ids given, whatever the number of assignments elsewhere."""
    ids = list(certificate_ids)
    result: dict[UUID, list[str]] = {pk: [] for pk in ids}
    for start in range(0, len(ids), ID_BATCH):
        batch = ids[start : start + ID_BATCH]
        for provider in _providers.values():
            for pk, labels in provider.labels(batch).items():
                result.setdefault(pk, []).extend(labels)
    return result


def rows_for_certificates(sql: str, ids: list[UUID]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` for these certificates: its ``{ids}`` stands for their placeholders, and its first column,
    a certificate id, comes back as a UUID. For the providers' ``labels``, asked on every page that shows rows not
    looked up since a write: a statement written once costs a fraction of the ORM's building of it."""
    if not ids:
        return []
    native = connection.features.has_native_uuid_field
    values = [pk if native else pk.hex for pk in ids]
    with connection.cursor() as cursor:
        cursor.execute(sql.format(ids=", ".join(["%s"] * len(ids))), values)
        rows = cursor.fetchall()
    return [(as_uuid(row[0]), *row[1:]) for row in rows]


def pending(certificate_id: UUID) -> dict[str, int]:
    """Provider name -> open requests to use this certificate, for the providers that take requests."""
    return {
        provider.name: provider.pending(certificate_id)
        for provider in _providers.values()
        if provider.pending is not None
    }


def assigned_q() -> Q:
    """Certificates assigned anywhere; negate it for the unassigned ones."""
    q = Q(pk__in=[])
    for provider in _providers.values():
        q |= provider.assigned()
    return q
