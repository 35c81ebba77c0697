"""Malformed certificates, made at the ASN.1 level from real ones: one hand-made case for each kind of damage a
hostile or broken tool produces, and a deterministic corpus of random structural mutants.

Each case is re-signed with the key of the certificate it came from (unless it damages the signature itself), so the
parser's checks run past the signature as far as they can.
"""

import ipaddress
import random
from collections.abc import Callable
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from . import der_edit as de
from . import pki
from .der_edit import Tlv

Edit = Callable[[de.Certificate], None]

BASIC_CONSTRAINTS, KEY_USAGE, SAN, EKU, AKI = "2.5.29.19", "2.5.29.15", "2.5.29.17", "2.5.29.37", "2.5.29.35"
NAME_CONSTRAINTS = "2.5.29.30"
SHA256_WITH_RSA, SHA384_WITH_RSA = "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
PRIVATE_POLICY = x509.ObjectIdentifier("1.3.6.1.4.1.99999.1")


@cache
def rich() -> tuple[bytes, rsa.RSAPrivateKey]:
    """A self-signed CA-shaped certificate with one of every common extension, and its key."""
    key = pki.make_key(2048, 0)
    cert, _ = pki.make_self_signed(
        key,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=2), True),
            (pki.key_usage(digital_signature=True, key_encipherment=True, key_cert_sign=True), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), False),
            (
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("recording.example.com"),
                        x509.IPAddress(ipaddress.ip_address("192.0.2.7")),
                        x509.RFC822Name("ops@example.com"),
                        x509.UniformResourceIdentifier("https://recording.example.com/"),
                        x509.DirectoryName(pki.make_name("Directory")),
                    ]
                ),
                False,
            ),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False),
            (
                x509.CRLDistributionPoints(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.example/")], None, None, None)]
                ),
                False,
            ),
            (
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.example/")
                        )
                    ]
                ),
                False,
            ),
            (
                x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), None)]),
                False,
            ),
        ],
    )
    return pki.der(cert), key


def _extension(c: de.Certificate, dotted: str) -> Tlv:
    wanted = de.oid(dotted).value
    return next(ext for ext in c.extensions if ext.children and ext.children[0].value == wanted)


def _set_value(dotted: str, value: Tlv | bytes) -> Edit:
    def edit(c: de.Certificate) -> None:
        ext = _extension(c, dotted)
        assert ext.children is not None
        ext.children[-1] = de.octets(value)

    return edit


def _san(*names: Tlv) -> Edit:
    return _set_value(SAN, de.seq(*names))


def _field(index: int, node: Tlv) -> Edit:
    def edit(c: de.Certificate) -> None:
        c.fields[index] = node

    return edit


def _drop(index: int) -> Edit:
    def edit(c: de.Certificate) -> None:
        del c.fields[index]

    return edit


def _repeat(index: int) -> Edit:
    def edit(c: de.Certificate) -> None:
        c.fields.insert(index, c.fields[index].copy())

    return edit


def _extensions_first(c: de.Certificate) -> None:
    c.fields.insert(0, c.fields.pop())


def _append(extension: Callable[[de.Certificate], Tlv]) -> Edit:
    def edit(c: de.Certificate) -> None:
        c.extensions.append(extension(c))

    return edit


def _outer(index: int, change: Callable[[Tlv], None] | None) -> Edit:
    """Change (or with None, drop) an element of the Certificate SEQUENCE itself: 1 the signature algorithm, 2 the
    signature value."""

    def edit(c: de.Certificate) -> None:
        assert c.tree.children is not None
        if change is None:
            del c.tree.children[index]
        else:
            change(c.tree.children[index])

    return edit


def _retag_node(tag: int) -> Callable[[Tlv], None]:
    def change(node: Tlv) -> None:
        node.tag = tag

    return change


def _revalue(value: bytes) -> Callable[[Tlv], None]:
    def change(node: Tlv) -> None:
        node.value = value

    return change


def _lie_about_certificate_length(c: de.Certificate) -> None:
    c.tree.length = len(c.tree.content()) + 5


def _swap(first: int, second: int) -> Edit:
    def edit(c: de.Certificate) -> None:
        fields = c.fields
        fields[first], fields[second] = fields[second], fields[first]

    return edit


def _retag(index: int, tag: int) -> Edit:
    def edit(c: de.Certificate) -> None:
        node = c.fields[index]
        if node.children is not None and not tag & 0x20:
            node.value, node.children = node.content(), None
        node.tag = tag

    return edit


def _times(not_before: Tlv, not_after: Tlv) -> Edit:
    return _field(de.VALIDITY, de.seq(not_before, not_after))


def _utc(text: str) -> Tlv:
    return Tlv(de.UTC_TIME, text.encode())


def _generalized(text: str) -> Tlv:
    return Tlv(de.GENERALIZED_TIME, text.encode())


def _serial(content: bytes) -> Edit:
    return _field(de.SERIAL, Tlv(de.INTEGER, content))


def _signature_algorithms(inner: str, outer: str) -> Edit:
    def edit(c: de.Certificate) -> None:
        c.fields[de.SIGNATURE] = de.seq(de.oid(inner), Tlv(de.NULL))
        assert c.tree.children is not None
        c.tree.children[1] = de.seq(de.oid(outer), Tlv(de.NULL))

    return edit


def _public_key(algorithm: Tlv, key: bytes) -> Edit:
    return _field(de.PUBLIC_KEY, de.seq(algorithm, Tlv(de.BIT_STRING, b"\x00" + key)))


def _rsa_key(modulus: int, exponent: int) -> Edit:
    return _public_key(
        de.seq(de.oid("1.2.840.113549.1.1.1"), Tlv(de.NULL)), de.seq(de.integer(modulus), de.integer(exponent)).encode()
    )


def _add_extensions(*extensions: Tlv) -> Edit:
    return lambda c: c.extensions.extend(extensions)


def _lie_about_length(index: int, change: int) -> Edit:
    def edit(c: de.Certificate) -> None:
        node = c.fields[index]
        node.length = max(0, len(node.content()) + change)

    return edit


def _truncate(index: int) -> Edit:
    def edit(c: de.Certificate) -> None:
        node = c.fields[index]
        if node.children:
            node.children.pop()
        else:
            node.value = node.value[: len(node.value) // 2]

    return edit


_POINT = b"\x04" + bytes(range(1, 65))
_MODULUS = (1 << 2047) + 159  # odd, 2048 bits; no one holds its private key, which these cases never need
_NAMES = ("version", "serial", "signature", "issuer", "validity", "subject", "public-key", "extensions")

NAMED: dict[str, Edit] = {
    **{f"drop-{name}": _drop(index) for index, name in enumerate(_NAMES)},
    **{f"repeat-{name}": _repeat(index) for index, name in enumerate(_NAMES)},
    "swap-serial-signature": _swap(de.SERIAL, de.SIGNATURE),
    "swap-validity-subject": _swap(de.VALIDITY, de.SUBJECT),
    "swap-public-key-extensions": _swap(de.PUBLIC_KEY, de.EXTENSIONS),
    "extensions-first": _extensions_first,
    "serial-as-octet-string": _retag(de.SERIAL, de.OCTET_STRING),
    "validity-as-set": _retag(de.VALIDITY, de.SET),
    "issuer-as-set": _retag(de.ISSUER, de.SET),
    "version-as-[1]": _retag(de.VERSION, 0xA1),
    "extensions-as-[2]": _retag(de.EXTENSIONS, 0xA2),
    "subject-as-utf8": _retag(de.SUBJECT, de.UTF8_STRING),
    "serial-length-too-long": _lie_about_length(de.SERIAL, 3),
    "validity-length-too-short": _lie_about_length(de.VALIDITY, -2),
    "public-key-length-too-long": _lie_about_length(de.PUBLIC_KEY, 1),
    "truncated-serial": _truncate(de.SERIAL),
    "truncated-subject": _truncate(de.SUBJECT),
    "truncated-validity": _truncate(de.VALIDITY),
    "truncated-extensions": _truncate(de.EXTENSIONS),
    # Extension values of the wrong inner type
    "basic-constraints-is-integer": _set_value(BASIC_CONSTRAINTS, de.integer(1)),
    "key-usage-is-octet-string": _set_value(KEY_USAGE, de.octets(b"\x05\xa0")),
    "san-of-integers": _san(de.integer(1), de.integer(2)),
    "eku-of-strings": _set_value(EKU, de.seq(Tlv(de.UTF8_STRING, b"serverAuth"))),
    "aki-with-wrong-tags": _set_value(AKI, de.seq(Tlv(0x85, b"\x01\x02"))),
    "extension-value-not-der": _set_value(SAN, b"\x30\x80\x00\x00"),
    "extension-without-value": _append(lambda c: de.seq(de.oid("2.5.29.9"))),
    "extension-critical-is-integer": _append(
        lambda c: de.seq(de.oid("1.3.6.1.4.1.99999.2"), de.integer(1), de.octets(b"\x05\x00"))
    ),
    # Repeated extensions
    "basic-constraints-twice": _append(lambda c: _extension(c, BASIC_CONSTRAINTS).copy()),
    "san-twice": _append(lambda c: _extension(c, SAN).copy()),
    # Subject Alternative Names
    "san-x400-address": _san(Tlv(0xA3, children=[de.seq()])),
    "san-edi-party-name": _san(Tlv(0xA5, children=[Tlv(0xA1, children=[Tlv(de.UTF8_STRING, b"edi")])])),
    "san-ip-3-bytes": _san(Tlv(0x87, b"\x0a\x00\x01")),
    "san-ip-5-bytes": _san(Tlv(0x87, b"\x0a\x00\x00\x01\x02")),
    "san-ip-17-bytes": _san(Tlv(0x87, bytes(17))),
    "san-dns-bad-utf8": _san(Tlv(0x82, b"rec\xff\xfe.example")),
    "san-email-bad-utf8": _san(Tlv(0x81, b"\xc3\x28@example.com")),
    "san-uri-control-chars": _san(Tlv(0x86, b"http://x\x00\x1b[31m/")),
    "san-registered-id-bad-oid": _san(Tlv(0x88, b"\x80")),
    "san-other-name-wrong-shape": _san(Tlv(0xA0, children=[de.integer(5)])),
    "san-directory-name-not-a-name": _san(Tlv(0xA4, children=[de.integer(5)])),
    "san-empty": _san(),
    # Key Usage bit strings
    "key-usage-8-unused-bits": _set_value(KEY_USAGE, Tlv(de.BIT_STRING, b"\x08\xa0")),
    "key-usage-unused-bits-without-content": _set_value(KEY_USAGE, Tlv(de.BIT_STRING, b"\x07")),
    "key-usage-empty": _set_value(KEY_USAGE, Tlv(de.BIT_STRING, b"")),
    "key-usage-too-long": _set_value(KEY_USAGE, Tlv(de.BIT_STRING, b"\x00\xff\xff\xff\xff")),
    # Basic Constraints
    "path-length-negative": _set_value(BASIC_CONSTRAINTS, de.seq(Tlv(de.BOOLEAN, b"\xff"), de.integer(-1))),
    "path-length-huge": _set_value(BASIC_CONSTRAINTS, de.seq(Tlv(de.BOOLEAN, b"\xff"), de.integer(1 << 200))),
    "ca-flag-not-der": _set_value(BASIC_CONSTRAINTS, de.seq(Tlv(de.BOOLEAN, b"\x01"))),
    # Serial numbers
    "serial-negative": _serial(b"\xff"),
    "serial-zero": _serial(b"\x00"),
    "serial-21-bytes": _serial(b"\x01" + bytes(20)),
    "serial-huge": _serial(b"\x01" + bytes(200)),
    "serial-not-minimal": _serial(b"\x00\x05"),
    "serial-empty": _serial(b""),
    # Names
    "empty-issuer": _field(de.ISSUER, de.seq()),
    "empty-subject": _field(de.SUBJECT, de.seq()),
    "subject-attribute-without-value": _field(de.SUBJECT, de.seq(de.seq(de.seq(de.oid("2.5.4.3")), tag=de.SET))),
    "subject-cn-bad-utf8": _field(
        de.SUBJECT, de.seq(de.seq(de.seq(de.oid("2.5.4.3"), Tlv(de.UTF8_STRING, b"\xff\xfe")), tag=de.SET))
    ),
    "subject-cn-bmp-odd-length": _field(
        de.SUBJECT, de.seq(de.seq(de.seq(de.oid("2.5.4.3"), Tlv(0x1E, b"\x00a\x00")), tag=de.SET))
    ),
    # Times
    "utc-time-without-z": _times(_utc("250101000000"), _utc("350101000000Z")),
    "utc-time-with-offset": _times(_utc("250101000000+0100"), _utc("350101000000Z")),
    "utc-time-without-seconds": _times(_utc("2501010000Z"), _utc("350101000000Z")),
    "generalized-time-fraction": _times(_generalized("20250101000000.5Z"), _generalized("20350101000000Z")),
    "generalized-time-year-0000": _times(_generalized("00000101000000Z"), _generalized("20350101000000Z")),
    "generalized-time-before-2050": _times(_generalized("20250101000000Z"), _generalized("20350101000000Z")),
    "month-13": _times(_utc("251301000000Z"), _utc("350101000000Z")),
    "february-30": _times(_utc("250230000000Z"), _utc("350101000000Z")),
    "time-with-letters": _times(_utc("25o101000000Z"), _utc("350101000000Z")),
    "time-as-integer": _times(de.integer(20250101), _utc("350101000000Z")),
    "validity-reversed": _times(_utc("350101000000Z"), _utc("250101000000Z")),
    # Signature algorithms
    "unknown-signature-algorithm": _signature_algorithms("1.2.3.4.5", "1.2.3.4.5"),
    "inner-outer-signature-mismatch": _signature_algorithms(SHA256_WITH_RSA, SHA384_WITH_RSA),
    "signature-algorithm-bad-parameters": _field(de.SIGNATURE, de.seq(de.oid(SHA256_WITH_RSA), de.integer(7))),
    # Public keys
    "public-key-garbage": _public_key(de.seq(de.oid("1.2.840.113549.1.1.1"), Tlv(de.NULL)), b"\x30\x03\x02\x01"),
    "rsa-key-three-integers": _public_key(
        de.seq(de.oid("1.2.840.113549.1.1.1"), Tlv(de.NULL)),
        de.seq(de.integer(_MODULUS), de.integer(65537), de.integer(1)).encode(),
    ),
    "rsa-modulus-negative": _rsa_key(-_MODULUS, 65537),
    "rsa-exponent-zero": _rsa_key(_MODULUS, 0),
    "rsa-exponent-above-modulus": _rsa_key(_MODULUS, _MODULUS + 2),
    "public-key-unknown-algorithm": _public_key(de.seq(de.oid("1.2.3.4.5")), b"\x01\x02"),
    "ec-unknown-curve": _public_key(de.seq(de.oid(EC_PUBLIC_KEY), de.oid("1.2.3.4.5")), _POINT),
    "ec-explicit-curve": _public_key(de.seq(de.oid(EC_PUBLIC_KEY), de.seq(de.integer(1))), _POINT),
    "ec-point-not-on-curve": _public_key(de.seq(de.oid(EC_PUBLIC_KEY), de.oid("1.2.840.10045.3.1.7")), _POINT),
    # Versions
    "version-4": _field(de.VERSION, Tlv(0xA0, children=[de.integer(3)])),
    "version-negative": _field(de.VERSION, Tlv(0xA0, children=[de.integer(-1)])),
    "version-1-with-extensions": _field(de.VERSION, Tlv(0xA0, children=[de.integer(0)])),
    # Many extensions: the search for the malformed one stops early
    "300-extensions-last-malformed": _add_extensions(
        *[de.extension(f"1.3.6.1.4.1.99999.3.{n}", b"\x05\x00") for n in range(299)],
        de.extension(NAME_CONSTRAINTS, b"\x01\x02"),
    ),
}
# Damage to what lies outside the signed part: not re-signed, or the damage would be undone.
UNSIGNED: dict[str, Edit] = {
    "signature-truncated": _outer(2, _revalue(b"\x00\x01")),
    "signature-not-bit-string": _outer(2, _retag_node(de.OCTET_STRING)),
    "signature-missing": _outer(2, None),
    "signature-algorithm-missing": _outer(1, None),
    "certificate-length-too-long": _lie_about_certificate_length,
}


def named_cases() -> dict[str, bytes]:
    base, key = rich()
    cases = {}
    for name, edit in {**NAMED, **UNSIGNED}.items():
        c = de.Certificate.of(base)
        edit(c)
        cases[name] = c.der(None if name in UNSIGNED else key)
    return cases


@cache
def mutants(count: int = 300, seed: int = 5280) -> tuple[tuple[str, bytes], ...]:
    """``count`` random structural mutants of three real certificates: half damage the TBSCertificate, half an
    extension's value; most are re-signed. The same every run."""
    rng = random.Random(seed)
    ca, ca_key = pki.make_ca()
    issued, _ = pki.issue(ca, ca_key)
    sources = [rich(), (pki.der(ca), ca_key), (pki.der(issued), ca_key)]
    found = []
    for number in range(count):
        base, key = rng.choice(sources)
        c = de.Certificate.of(base)
        if number % 2 and c.extensions:
            ext = rng.choice(c.extensions)
            assert ext.children is not None
            holder = de.seq(de.read(ext.children[-1].value))
            for _ in range(rng.randint(1, 3)):
                de.mutate(holder, rng)
            ext.children[-1] = de.octets(holder.content())
        else:
            for _ in range(rng.randint(1, 3)):
                de.mutate(c.tbs, rng)
        found.append((f"mutant-{number}", c.der(key if rng.random() < 0.8 else None)))
    return tuple(found)


def corpus() -> list[tuple[str, bytes]]:
    return [*named_cases().items(), *mutants()]
