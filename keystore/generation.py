"""Keys made inside the keystore: generated here, or brought in as a bare key from another key manager, and sealed at
once beside a self-signed certificate that carries their public key (a keystore entry is a certificate and its key,
as in a Java keystore, so backups, restores and the key drill treat these keys like every other). The private key is
never written anywhere in the clear."""

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.views.decorators.debug import sensitive_variables

from portal.accounts.models import Tenant

from .keyfiles import KeyFileError, check_consistent, check_rsa_size, key_type_name
from .models import KeystoreEntry
from .sealing import store_private_key

GENERATED_RSA_BITS = (2048, 3072, 4096)
DEFAULT_GENERATED_BITS = 3072
MAX_BARE_KEY_BYTES = 16 * 1024  # a DER RSA key of 8,192 bits is under 5 KB


# The extensions of a certificate made here. KEY_HOLDER: an end entity whose key encrypts session keys. OPENSSL_REQ:
# what `openssl req -new -x509` adds with OpenSSL's default configuration, the shape the recording guides make by hand.
KEY_HOLDER = "key-holder"
OPENSSL_REQ = "openssl-req"
# DER NULL: a marker extension says what it is by its identifier alone.
_MARKER_VALUE = b"\x05\x00"


@dataclass(frozen=True)
class SelfSigned:
    """The certificate that wraps a key made here: who it names, when it is valid, its extensions' style, and an
    optional non-critical marker extension (an identifier the owning app recognizes the certificate by)."""

    subject: x509.Name
    not_before: datetime
    not_after: datetime
    style: str = KEY_HOLDER
    marker: x509.ObjectIdentifier | None = None


_KEY_HOLDER_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def self_signed_certificate(private_key: rsa.RSAPrivateKey, profile: SelfSigned) -> bytes:
    """DER of a v3 certificate for ``private_key``, signed with it (SHA-256), with a random 159-bit serial."""
    if profile.style not in (KEY_HOLDER, OPENSSL_REQ):
        raise ValueError(f"unknown certificate style {profile.style!r}")
    public_key = private_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(profile.subject)
        .issuer_name(profile.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(profile.not_before)
        .not_valid_after(profile.not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
    )
    if profile.style == OPENSSL_REQ:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(_KEY_HOLDER_USAGE, critical=True)
    if profile.marker is not None:
        marker = x509.UnrecognizedExtension(profile.marker, _MARKER_VALUE)
        builder = builder.add_extension(marker, critical=False)
    return builder.sign(private_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def new_rsa_key(bits: int) -> rsa.RSAPrivateKey:
    """A fresh RSA key of one of the offered sizes; ``KeyFileError`` for any other."""
    if bits not in GENERATED_RSA_BITS:
        sizes = ", ".join(str(size) for size in GENERATED_RSA_BITS)
        raise KeyFileError(f"Keys are generated with {sizes} bits; {bits} is not one of them.")
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@sensitive_variables("private_key")
def generate_key(tenant: Tenant, *, alias: str, bits: int, certificate: SelfSigned) -> KeystoreEntry:
    """A new RSA key of ``bits`` bits, sealed under ``alias`` with its self-signed certificate, inside the caller's
    transaction. ``KeyFileError`` for a size not offered, ``AliasError`` when the alias breaks the alias rule."""
    private_key = new_rsa_key(bits)
    der = self_signed_certificate(private_key, certificate)
    return store_private_key(tenant, alias=alias, certificate_der=der, private_key=private_key)


@sensitive_variables("private_key_der", "private_key")
def store_bare_key(
    tenant: Tenant, *, alias: str, private_key_der: bytes, public_key_der: bytes, certificate: SelfSigned
) -> KeystoreEntry:
    """Seal a bare RSA private key (DER, PKCS#1 or PKCS#8, as another key manager stored it) under ``alias`` with a
    self-signed certificate, inside the caller's transaction. The key must be a consistent RSA key whose public half
    is ``public_key_der`` (DER, PKCS#1 RSAPublicKey or SubjectPublicKeyInfo). ``KeyFileError`` says what is wrong,
    without key material."""
    if len(private_key_der) > MAX_BARE_KEY_BYTES or len(public_key_der) > MAX_BARE_KEY_BYTES:
        raise KeyFileError("The key is larger than any RSA key this portal accepts.")
    try:
        public_key = serialization.load_der_public_key(public_key_der)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError("The public key is not a DER RSA public key.") from None
    try:
        private_key = serialization.load_der_private_key(
            private_key_der, password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError("The private key is not a DER RSA private key (PKCS#1 or PKCS#8).") from None
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise KeyFileError(f"The private key is {key_type_name(private_key)}; only RSA keys are accepted.")
    check_rsa_size(private_key.key_size)
    check_consistent(private_key)  # the arithmetic check: loading skipped OpenSSL's slow one
    if not isinstance(public_key, rsa.RSAPublicKey) or private_key.public_key().public_numbers() != (
        public_key.public_numbers()
    ):
        raise KeyFileError("The private key does not match its public key.")
    der = self_signed_certificate(private_key, certificate)
    return store_private_key(tenant, alias=alias, certificate_der=der, private_key=private_key)
