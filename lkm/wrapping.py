"""The certificate that wraps an LKM keypair's public key in the keystore. Genesys Cloud never sees it: it exists so
the keypair is a keystore entry like every other (a PrivateKeyEntry in a PKCS#12 backup, as keytool lists it), and
it names the keypair so that a restore gives the keypair back its id."""

import uuid
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from keystore.api import SelfSigned

COMMON_NAME = "Genesys Cloud Local Key Manager keypair"
ALIAS_PREFIX = "lkm-"
# RFC 5280's "no well-defined expiration date": a keypair decrypts for as long as its recordings exist.
NEVER_EXPIRES = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


def alias_for(keypair_id: uuid.UUID) -> str:
    return f"{ALIAS_PREFIX}{keypair_id}"


def wrapper_for(keypair_id: uuid.UUID, date_created: datetime) -> SelfSigned:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, COMMON_NAME),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, str(keypair_id)),
        ]
    )
    return SelfSigned(subject=subject, not_before=date_created.replace(microsecond=0), not_after=NEVER_EXPIRES)


def keypair_named_by(certificate_der: bytes) -> tuple[uuid.UUID, datetime] | None:
    """(keypair id, creation time) when the certificate is a keypair's wrapper, else None."""
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
        subject = certificate.subject
        names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        serials = subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        if certificate.issuer != subject or len(names) != 1 or len(serials) != 1 or names[0].value != COMMON_NAME:
            return None
        return uuid.UUID(str(serials[0].value)), certificate.not_valid_before_utc
    except ValueError:
        return None


def public_key_pkcs1(certificate_der: bytes) -> bytes:
    """DER of the bare PKCS#1 RSAPublicKey (a SEQUENCE of two INTEGERs), the form Genesys Cloud requires."""
    public_key = x509.load_der_x509_certificate(certificate_der).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ValueError("an LKM keypair is an RSA key")
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
