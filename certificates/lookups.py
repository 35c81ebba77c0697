"""One loader per object type, already filtered by the tenant: another tenant's object is a 404 by construction."""

import uuid

from portal.accounts.access import scoped_get
from portal.accounts.models import Tenant

from .models import Certificate, CertificateRequest, RootCA


def get_certificate(tenant: Tenant, pk: uuid.UUID) -> Certificate:
    """An active (not archived) recording certificate of ``tenant``, with its keystore entry."""
    return scoped_get(Certificate.objects.active().select_related("entry", "uploaded_by"), tenant, pk=pk)


def get_root_ca(tenant: Tenant, pk: uuid.UUID) -> RootCA:
    return scoped_get(RootCA.objects.select_related("added_by"), tenant, pk=pk)


def get_waiting(tenant: Tenant, pk: uuid.UUID) -> CertificateRequest:
    """A key of ``tenant`` waiting for its CA's certificate."""
    return scoped_get(
        CertificateRequest.objects.select_related("entry", "requested_by", "renews__entry"), tenant, pk=pk
    )
