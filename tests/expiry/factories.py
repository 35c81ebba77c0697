"""Recording certificates with chosen validity periods, made at test time and stored through the keystore like an
upload; and the two ways a certificate gets assigned (an IVR profile, the screen-recording list)."""

import secrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone

from certificates.models import Certificate
from ivr.models import IvrAssignment, IvrProfile
from keystore.api import store_private_key
from screenrecording.models import ScreenRecordingCertificate


@lru_cache(maxsize=1)
def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def whole_seconds(moment: datetime) -> datetime:
    """X.509 validity has one-second precision."""
    return moment.replace(microsecond=0)


def make_certificate(
    tenant: Any,
    alias: str,
    *,
    not_after: datetime | None = None,
    days: float | None = None,
    not_before: datetime | None = None,
    subject_name: str | None = None,
    archived: bool = False,
) -> Certificate:
    """A self-signed RSA certificate ending at ``not_after`` (or ``days`` from now), its key sealed in the keystore."""
    now = whole_seconds(timezone.now())
    if not_after is None:
        not_after = now + timedelta(days=days if days is not None else 365)
    not_after = whole_seconds(not_after)
    not_before = whole_seconds(not_before or min(now, not_after) - timedelta(days=400))
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_name or alias)])
    serial = secrets.randbits(64) | 1
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before.astimezone(UTC))
        .not_valid_after(not_after.astimezone(UTC))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    entry = store_private_key(tenant, alias=alias, certificate_der=der, private_key=key)
    fingerprint = cert.fingerprint(hashes.SHA256()).hex().upper()
    return Certificate.objects.create(
        tenant=tenant,
        entry=entry,
        subject_name=subject_name or alias,
        serial_number=str(serial),
        serial_hex=f"{serial:X}",
        subject_dn=name.rfc4514_string(),
        issuer_dn=name.rfc4514_string(),
        not_valid_before=not_before,
        not_valid_after=not_after,
        sha256_fingerprint=":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2)),
        key_size=2048,
        signature_algorithm="sha256WithRSAEncryption",
        is_self_signed=True,
        chain_ok=True,
        chain_reason="",
        archived_at=now if archived else None,
    )


def assign_to_ivr(cert: Certificate, profile_name: str = "record", dbid: int = 101) -> IvrAssignment:
    profile, _ = IvrProfile.objects.get_or_create(tenant=cert.tenant, name=profile_name, defaults={"dbid": dbid})
    return IvrAssignment.objects.create(tenant=cert.tenant, profile=profile, certificate=cert)


def assign_to_screen_recording(cert: Certificate) -> ScreenRecordingCertificate:
    return ScreenRecordingCertificate.objects.create(tenant=cert.tenant, certificate=cert)
