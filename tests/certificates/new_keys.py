"""Keys made in the portal, for the tests of the Generate, Request from a CA, waiting key and Renew pages: the form
as a browser posts it, a key waiting for its CA's certificate, and that certificate signed by a test CA."""

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from certificates.generation import check_new_key
from certificates.models import Certificate, CertificateRequest
from certificates.requests import request_certificate
from portal.accounts.models import Tenant
from portal.audit.log import COMMAND
from tests.certificates import pki

SEED_FIELDS = {
    "common_name": "Genesys Recording",
    "country": "US",
    "state": "California",
    "locality": "Daly City",
    "organization": "Genesys",
    "organizational_unit": "Recording",
    "email": "security@example.com",
}


def form_data(**overrides: Any) -> dict[str, Any]:
    """The Generate form filled in as the recording guide's example, 2048 bits to keep the tests quick."""
    return {**SEED_FIELDS, "days": "3650", "bits": "2048", "alias": "", **overrides}


def waiting_key(
    tenant: Tenant, cn: str = "Acme Recording", *, alias: str = "", renews: Certificate | None = None
) -> CertificateRequest:
    """A 2048-bit key waiting for its CA's certificate, requested as the Request from a CA page does."""
    new = check_new_key(tenant, subject={**SEED_FIELDS, "common_name": cn}, bits=2048, alias=alias, needs_days=False)
    outcome = request_certificate(tenant, new, by=COMMAND, renews=renews)
    assert outcome.waiting is not None
    return outcome.waiting


def signed_reply(
    waiting: CertificateRequest, ca_cert: x509.Certificate, ca_key: CertificateIssuerPrivateKeyTypes, days: int = 365
) -> x509.Certificate:
    """The certificate a CA issues for the waiting key's CSR: its subject and public key, the CA's signature."""
    csr = x509.load_der_x509_csr(bytes(waiting.csr_der))
    return pki.build(
        csr.subject,
        ca_cert.subject,
        csr.public_key(),
        ca_key,
        days=days,
        extensions=(
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (pki.key_usage(digital_signature=True, key_encipherment=True), True),
        ),
    )
