"""Test PKI factories: keys, self-signed recording certificates, root CAs, issued certificates, and the other files
people upload by mistake (key files, CSRs, CRLs, PKCS#7 and PKCS#12 bundles, SSH keys).

RSA keys are cached per ``(bits, index)``: generating 2048-bit keys is the slow part, so tests share them and ask
for a different ``index`` when they need distinct keys. Defaults use separate indexes for self-signed
certificates (0), CAs (1) and issued certificates (2), so a CA never shares a key with what it issues.

Certificates start a minute in the past (so they are valid "now" despite clock skew) unless told otherwise.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID

# The seed's subject after the CN: /CN=Genesys Recording/C=US/ST=California/O=Genesys
SEED_SUBJECT_EXTRA: tuple[tuple[x509.ObjectIdentifier, str], ...] = (
    (NameOID.COUNTRY_NAME, "US"),
    (NameOID.STATE_OR_PROVINCE_NAME, "California"),
    (NameOID.ORGANIZATION_NAME, "Genesys"),
)
SEED_SUBJECT_DN = "CN=Genesys Recording,C=US,ST=California,O=Genesys"

Extensions = Sequence[tuple[x509.ExtensionType, bool]]  # (value, critical)
HashTypes = hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512
# The key a helper is given comes back with its own type; without one, the helper makes an RSA key.
Key = TypeVar("Key", bound=CertificateIssuerPrivateKeyTypes)


def make_key(bits: int = 2048, index: int = 0) -> rsa.RSAPrivateKey:
    """An RSA key, the same object for the same ``(bits, index)`` for the whole test run."""
    return _cached_key(bits, index)  # one cache key however the caller spells the arguments


@cache
def _cached_key(bits: int, index: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_ec_key(curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(curve or ec.SECP256R1())


def make_name(cn: str | None, extra: Sequence[tuple[x509.ObjectIdentifier, str]] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn is not None else []
    return x509.Name(attributes + [x509.NameAttribute(oid, value) for oid, value in extra])


def _validity(days: int, not_before: datetime | None, not_after: datetime | None) -> tuple[datetime, datetime]:
    start = not_before or datetime.now(UTC) - timedelta(minutes=1)
    return start, not_after or start + timedelta(days=days)


def _sign(
    builder: x509.CertificateBuilder, key: CertificateIssuerPrivateKeyTypes, hash_algorithm: HashTypes
) -> x509.Certificate:
    # Ed25519 and Ed448 sign without a separate hash.
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return builder.sign(key, None)
    return builder.sign(key, hash_algorithm)


def build(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    signing_key: CertificateIssuerPrivateKeyTypes,
    *,
    days: int = 3650,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    serial: int | None = None,
    extensions: Extensions = (),
    hash_algorithm: HashTypes | None = None,
) -> x509.Certificate:
    """The general case; the helpers below fill in the usual values."""
    start, end = _validity(days, not_before, not_after)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
    )
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return _sign(builder, signing_key, hash_algorithm or hashes.SHA256())


def make_self_signed(
    key: Key | None = None,
    cn: str | None = "Genesys Recording",
    days: int = 3650,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    extra_subject: Sequence[tuple[x509.ObjectIdentifier, str]] = SEED_SUBJECT_EXTRA,
    *,
    subject: x509.Name | None = None,
    serial: int | None = None,
    extensions: Extensions = (),
    hash_algorithm: HashTypes | None = None,
) -> tuple[x509.Certificate, Key | rsa.RSAPrivateKey]:
    """A self-signed certificate like the seed's ``openssl req -new -x509`` (minus openssl's default extensions)."""
    signer = key or make_key(2048, 0)
    name = subject if subject is not None else make_name(cn, extra_subject)
    cert = build(
        name,
        name,
        signer.public_key(),
        signer,
        days=days,
        not_before=not_before,
        not_after=not_after,
        serial=serial,
        extensions=extensions,
        hash_algorithm=hash_algorithm,
    )
    return cert, signer


def make_ca(
    cn: str = "Acme Root CA",
    key: Key | None = None,
    days: int = 7300,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    *,
    usage: x509.KeyUsage | None = None,
    extra_subject: Sequence[tuple[x509.ObjectIdentifier, str]] = ((NameOID.ORGANIZATION_NAME, "Acme"),),
) -> tuple[x509.Certificate, Key | rsa.RSAPrivateKey]:
    """A self-signed root CA: Basic Constraints CA:true (critical), Key Usage keyCertSign + cRLSign, SKI."""
    signer = key or make_key(2048, 1)
    usage = usage or key_usage(key_cert_sign=True, crl_sign=True)
    extensions: Extensions = (
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (usage, True),
        (x509.SubjectKeyIdentifier.from_public_key(signer.public_key()), False),
    )
    return make_self_signed(signer, cn, days, not_before, not_after, extra_subject, extensions=extensions)


def issue(
    ca_cert: x509.Certificate,
    ca_key: CertificateIssuerPrivateKeyTypes,
    cn: str = "Genesys Recording",
    *,
    key: Key | None = None,
    days: int = 365,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    extra_subject: Sequence[tuple[x509.ObjectIdentifier, str]] = SEED_SUBJECT_EXTRA,
    extensions: Extensions | None = None,
    serial: int | None = None,
) -> tuple[x509.Certificate, Key | rsa.RSAPrivateKey]:
    """A certificate for ``cn`` signed by the CA. Default extensions: CA:false, Key Usage digitalSignature +
    keyEncipherment (critical), SKI and AKI."""
    subject_key = key or make_key(2048, 2)
    if extensions is None:
        extensions = (
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (key_usage(digital_signature=True, key_encipherment=True), True),
            (x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        )
    cert = build(
        make_name(cn, extra_subject),
        ca_cert.subject,
        subject_key.public_key(),
        ca_key,
        days=days,
        not_before=not_before,
        not_after=not_after,
        serial=serial,
        extensions=extensions,
    )
    return cert, subject_key


def key_usage(**flags: bool) -> x509.KeyUsage:
    """``x509.KeyUsage`` with every flag defaulting to False: ``key_usage(key_cert_sign=True)``."""
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})


# --- Encodings -------------------------------------------------------------------------------------------------------


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def key_pem_traditional(key: PrivateKeyTypes) -> bytes:
    """``-----BEGIN RSA PRIVATE KEY-----`` (``openssl genrsa`` in OpenSSL 1.x)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def key_pem_pkcs8(key: PrivateKeyTypes) -> bytes:
    """``-----BEGIN PRIVATE KEY-----`` (the seed's ``openssl pkcs8 -topk8 -nocrypt``)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def key_pem_pkcs8_encrypted(key: PrivateKeyTypes, password: bytes | str) -> bytes:
    """``-----BEGIN ENCRYPTED PRIVATE KEY-----``."""
    secret = password.encode() if isinstance(password, str) else password
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    )


def load_rsa_key(pem: bytes, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """A PEM private key read back; it must be RSA, the only kind the portal stores."""
    key = serialization.load_pem_private_key(pem, password)
    assert isinstance(key, rsa.RSAPrivateKey), f"an RSA key was expected, not {type(key).__name__}"
    return key


def key_der_pkcs8(key: PrivateKeyTypes, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, encryption)


def key_der_traditional(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def public_key_pem(key: PrivateKeyTypes, *, pkcs1: bool = False) -> bytes:
    """``-----BEGIN PUBLIC KEY-----``, or ``-----BEGIN RSA PUBLIC KEY-----`` with ``pkcs1``."""
    public_format = serialization.PublicFormat.PKCS1 if pkcs1 else serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_key().public_bytes(serialization.Encoding.PEM, public_format)


def ssh_public_key(key: PrivateKeyTypes) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)


def ssh_private_key(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )


def make_csr(key: CertificateIssuerPrivateKeyTypes | None = None, cn: str = "Genesys Recording") -> bytes:
    """A PEM CSR, like ``openssl req -new``."""
    key = key or make_key(2048, 0)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(make_name(cn, SEED_SUBJECT_EXTRA))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def make_crl(
    ca_cert: x509.Certificate, ca_key: CertificateIssuerPrivateKeyTypes, *, revoked: Sequence[int] = ()
) -> bytes:
    """A PEM CRL from the CA, revoking the given serial numbers."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now)
        .next_update(now + timedelta(days=7))
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def make_p7b(
    certs: Sequence[x509.Certificate], *, encoding: serialization.Encoding = serialization.Encoding.PEM
) -> bytes:
    """A PKCS#7 certificate bundle (``.p7b``), PEM or DER."""
    return pkcs7.serialize_certificates(list(certs), encoding)


def make_p12(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    password: bytes | None = None,
    *,
    ca_certs: Sequence[x509.Certificate] = (),
    alias: str = "recording",
) -> bytes:
    """A PKCS#12 (``.pfx``/``.p12``) file holding the key and certificate under ``alias`` (its friendlyName),
    encrypted if ``password`` is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(alias.encode(), key, cert, list(ca_certs) or None, encryption)


def tamper_signature(cert: x509.Certificate) -> bytes:
    """The certificate's DER with the last signature byte flipped: still parses, no longer verifies."""
    data = bytearray(der(cert))
    data[-1] ^= 0x01
    return bytes(data)


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    """Patch DER in place (``old`` and ``new`` the same length, so every length field stays right)."""
    assert len(old) == len(new) and old in data, "the patch must keep lengths and match"
    return data.replace(old, new, 1)
