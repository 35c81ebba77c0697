"""What the benchmark scripts share."""

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

MISSED_A_TARGET = 3  # a script's exit status when it ran and missed a target; run_all.py reports it apart


def log(message: str) -> None:
    print(message, flush=True)


def self_signed_der(
    key: rsa.RSAPrivateKey | None = None,
    cn: str = "Genesys Recording",
    days: int = 365,
    *,
    organization: str = "",
    since: timedelta = timedelta(0),
) -> bytes:
    """A self-signed recording certificate, DER, valid from ``since`` ago (now by default) for ``days`` from now."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    name = x509.Name(attributes)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - since)
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)
