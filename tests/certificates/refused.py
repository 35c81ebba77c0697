"""Certificates that read but must be refused, made at test time, and the messages the portal gives for them."""

from collections.abc import Callable
from datetime import timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from . import der_edit as de
from . import pki

PRIVATE = x509.ObjectIdentifier("1.3.6.1.4.1.99999.7")


def reversed_validity(cert: x509.Certificate, key: rsa.RSAPrivateKey, *, by_a_second: bool = False) -> x509.Certificate:
    """``cert`` with notBefore after notAfter (its dates swapped, or notAfter moved to a second before notBefore),
    signed again by ``key``: CertificateBuilder refuses to make one."""
    edited = de.Certificate.of(pki.der(cert))
    validity = edited.fields[de.VALIDITY]
    assert validity.children is not None
    if by_a_second:
        end = cert.not_valid_before_utc - timedelta(seconds=1)
        validity.children[1] = de.Tlv(de.UTC_TIME, end.strftime("%y%m%d%H%M%SZ").encode())
    else:
        validity.children.reverse()
    return x509.load_der_x509_certificate(edited.der(key))


def edited(der: bytes, key: rsa.RSAPrivateKey, edit: Callable[[de.Certificate], None]) -> bytes:
    """``der`` changed by ``edit`` and signed again by ``key``."""
    edited = de.Certificate.of(der)
    edit(edited)
    return edited.der(key)


def without_version(c: de.Certificate) -> None:
    del c.fields[de.VERSION]  # a v1 certificate, keeping its extensions


def empty_issuer(c: de.Certificate) -> None:
    c.fields[de.ISSUER] = de.seq()


def outer_algorithm(dotted: str) -> Callable[[de.Certificate], None]:
    def edit(c: de.Certificate) -> None:
        assert c.tree.children is not None
        c.tree.children[1] = de.seq(de.oid(dotted), de.Tlv(de.NULL))

    return edit


SHA384_WITH_RSA, SHA1_WITH_RSA = "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.5"
# Certificates cryptography reads and Java's CertificateFactory refuses to load.
JAVA_WILL_NOT_LOAD: dict[str, Callable[[de.Certificate], None]] = {
    "version-1-with-extensions": without_version,
    "empty-issuer": empty_issuer,
    "signature-algorithms-differ-sha384": outer_algorithm(SHA384_WITH_RSA),
    "signature-algorithms-differ-sha1": outer_algorithm(SHA1_WITH_RSA),
}
V1_WITH_EXTENSIONS = (
    "The certificate is version 1 but has extensions, which only version 3 allows, and Java refuses it. "
    "Create a new certificate."
)
EMPTY_ISSUER = (
    "The certificate's issuer is empty; X.509 requires one, and Java refuses a certificate without it. "
    "Create a new certificate."
)


def differ_message(outer: str) -> str:
    return (
        f"The certificate names two signature algorithms, sha256WithRSAEncryption in its signed part and {outer} "
        "outside it; X.509 requires the same one, and Java refuses such a certificate. Create a new certificate."
    )


def with_exponent(exponent: int) -> bytes:
    """A certificate whose RSA key has ``exponent`` (the signature no longer verifies; the parser refuses first)."""
    cert, key = pki.make_self_signed()
    edited = de.Certificate.of(pki.der(cert))
    modulus = key.public_key().public_numbers().n
    edited.fields[de.PUBLIC_KEY] = de.seq(
        de.seq(de.oid("1.2.840.113549.1.1.1"), de.Tlv(de.NULL)),
        de.Tlv(de.BIT_STRING, b"\x00" + de.seq(de.integer(modulus), de.integer(exponent)).encode()),
    )
    return edited.der(key)


@cache
def exponent_3_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=3, key_size=2048)


def critical(*extensions: x509.ExtensionType) -> bytes:
    return pki.der(pki.make_self_signed(extensions=[(value, True) for value in extensions])[0])


REVERSED = (
    "The certificate's validity period is reversed: it starts on {start} UTC, after it ends on {end} UTC, so it is "
    "valid at no time. Create a new certificate."
)
CRITICAL = (
    "The certificate has a critical extension that the Recording Crypto Server does not recognise: {labels}. Such a "
    "certificate must be refused (RFC 5280); create a new certificate without it, or with it marked non-critical."
)


def reversed_message(cert: x509.Certificate) -> str:
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    return REVERSED.format(start=f"{start:%Y-%m-%d %H:%M:%S}", end=f"{end:%Y-%m-%d %H:%M:%S}")
