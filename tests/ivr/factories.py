"""Recording certificates, IVR assignments and requests for the IVR, screen-recording and archive tests.

Certificates are made at test time with the shared test PKI and stored the way uploads store them: the private key
sealed in the keystore, the public fields parsed from the certificate.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509

from certificates.models import Certificate, RootCA
from certificates.x509.chain import verify_chain
from certificates.x509.parsing import parse_certificate, parse_root_ca
from ivr.models import AssignmentRequest, IvrAssignment, IvrProfile
from keystore.api import store_private_key
from tests.certificates import pki

_serial = iter(range(10_000, 10**9))


def store(
    tenant: Any, cert: x509.Certificate, key: Any, alias: str, *, roots: list[bytes] | None = None
) -> Certificate:
    parsed = parse_certificate(pki.der(cert))
    chain = verify_chain(parsed, roots or [], at=min(datetime.now(UTC), parsed.not_valid_after))
    entry = store_private_key(tenant, alias=alias, certificate_der=parsed.der, private_key=key)
    return Certificate.objects.create(
        tenant=tenant,
        entry=entry,
        subject_name=parsed.subject_name,
        serial_number=str(parsed.serial_number),
        serial_hex=parsed.serial_hex,
        subject_dn=parsed.subject_dn,
        issuer_dn=parsed.issuer_dn,
        not_valid_before=parsed.not_valid_before,
        not_valid_after=parsed.not_valid_after,
        sha256_fingerprint=parsed.sha256_fingerprint,
        key_size=parsed.key_size,
        signature_algorithm=parsed.signature_algorithm,
        is_self_signed=parsed.is_self_signed,
        chain_ok=chain.ok,
        chain_reason=chain.reason,
    )


def make_certificate(
    tenant: Any,
    alias: str,
    *,
    cn: str = "Genesys Recording",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Certificate:
    """A self-signed recording certificate like the seed's, valid for ten years unless told otherwise."""
    key = pki.make_key(2048, 0)
    cert, _ = pki.make_self_signed(key, cn, not_before=not_before, not_after=not_after, serial=next(_serial))
    return store(tenant, cert, key, alias)


def expired_certificate(tenant: Any, alias: str, *, ended: datetime | None = None) -> Certificate:
    ended = ended or datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
    return make_certificate(tenant, alias, not_before=ended - timedelta(days=365), not_after=ended)


def future_certificate(tenant: Any, alias: str, *, starts: datetime) -> Certificate:
    return make_certificate(tenant, alias, not_before=starts, not_after=starts + timedelta(days=365))


def add_root(tenant: Any, ca_cert: x509.Certificate) -> RootCA:
    parsed = parse_root_ca(pki.der(ca_cert))
    return RootCA.objects.create(
        tenant=tenant,
        subject_dn=parsed.subject_dn,
        subject_name=parsed.subject_name,
        der=parsed.der,
        sha256_fingerprint=parsed.sha256_fingerprint,
        not_valid_after=parsed.not_valid_after,
    )


def ca_issued_certificate(tenant: Any, alias: str) -> tuple[Certificate, RootCA]:
    """A certificate issued by a root CA the tenant trusts (until the test removes the root)."""
    ca_cert, ca_key = pki.make_ca("Acme Root CA")
    root = add_root(tenant, ca_cert)
    key = pki.make_key(2048, 2)
    cert, _ = pki.issue(ca_cert, ca_key, "Acme Recording", key=key, serial=next(_serial))
    return store(tenant, cert, key, alias, roots=[pki.der(ca_cert)]), root


def record_profile(tenant: Any) -> IvrProfile:
    return IvrProfile.objects.get(tenant=tenant, name="record")


def assigned_to_record(
    tenant: Any, alias: str = "assigned-cert", certificate: Certificate | None = None
) -> IvrAssignment:
    certificate = certificate or make_certificate(tenant, alias)
    return IvrAssignment.objects.create(tenant=tenant, profile=record_profile(tenant), certificate=certificate)


def open_request(tenant: Any, user: Any, alias: str = "requested-cert", comment: str = "") -> AssignmentRequest:
    certificate = make_certificate(tenant, alias)
    return AssignmentRequest.objects.create(
        tenant=tenant,
        profile=record_profile(tenant),
        certificate=certificate,
        certificate_alias=certificate.alias,
        comment=comment,
        requested_by=user,
    )
