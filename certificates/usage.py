"""Where certificates are in use. Apps that assign certificates register a provider here, so that the certificate
pages (and the guard against deleting a certificate in use) see every assignment without importing those apps.

Providers answer for many certificates at once, so a list page costs one query per provider, whatever its length.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Q


@dataclass(frozen=True)
class UsageProvider:
    name: str
    # certificate ids -> {id: ["IVR profile 'record'", ...]} for those in use
    labels: Callable[[list[UUID]], dict[UUID, list[str]]]
    # a filter on Certificate that keeps the certificates this provider uses
    assigned: Callable[[], Q]


_providers: dict[str, UsageProvider] = {}


def register(provider: UsageProvider) -> None:
    _providers[provider.name] = provider


def labels_for(certificate_ids: Iterable[UUID]) -> dict[UUID, list[str]]:
    ids = list(certificate_ids)
    result: dict[UUID, list[str]] = {pk: [] for pk in ids}
    if not ids:
        return result
    for provider in _providers.values():
        for pk, labels in provider.labels(ids).items():
            result.setdefault(pk, []).extend(labels)
    return result


def labels_for_tenants(tenant_ids: list[Any]) -> dict[Any, dict[UUID, list[str]]]:
    """tenant id -> {certificate id: labels} for every assigned certificate of these tenants: one query for which
    certificates are assigned, then one per provider for their labels."""
    from .models import Certificate

    assigned = dict(Certificate.objects.filter(assigned_q(), tenant_id__in=tenant_ids).values_list("pk", "tenant_id"))
    result: dict[Any, dict[UUID, list[str]]] = {tenant: {} for tenant in tenant_ids}
    for pk, labels in labels_for(assigned).items():
        if labels:
            result[assigned[pk]][pk] = labels
    return result


def assigned_q() -> Q:
    """Certificates assigned anywhere; negate it for the unassigned ones."""
    q = Q(pk__in=[])
    for provider in _providers.values():
        q |= provider.assigned()
    return q
