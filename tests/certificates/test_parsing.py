"""certificates.x509.parsing: the files accepted, the files refused and what the user is told, descriptions,
root CAs."""

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519
from cryptography.x509.oid import NameOID

from certificates.x509 import parsing
from certificates.x509.chain import ChainResult, verify_chain
from certificates.x509.parsing import (
    CertificateError,
    ParsedCertificate,
    parse_certificate,
    parse_root_ca,
)

from . import pki
from .parsing_helpers import _ca, rejected

SHA256_WITH_RSA = bytes.fromhex("2a864886f70d01010b")  # the OID's content octets, in both AlgorithmIdentifiers
RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")


# --- What is accepted ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        lambda pem: pem.replace(b"\n", b"\r\n"),
        lambda pem: b"\xef\xbb\xbf" + pem,
        lambda pem: b"Subject: CN=Genesys Recording\nIssuer: whoever\n\n" + pem,
        lambda pem: pem + b"  \n\n\t",
        lambda pem: b"\xef\xbb\xbf" + pem.replace(b"\n", b"\r\n") + b"\r\n\r\n",
        lambda pem: pem.decode().encode("utf-16"),  # Notepad's "Unicode"
        lambda pem: pem.replace(b"CERTIFICATE-----", b"X509 CERTIFICATE-----"),
        lambda pem: pem.replace(b"\n", b"").replace(b"-----MII", b"-----\nMII"),  # base64 on one long line
    ],
    ids=["crlf", "bom", "leading-text", "trailing-space", "bom-crlf", "utf16", "x509-label", "one-line"],
)
def test_pem_variants_are_accepted(
    recording: tuple[x509.Certificate, ParsedCertificate], variant: Callable[[bytes], bytes]
) -> None:
    cert, expected = recording
    assert parse_certificate(variant(pki.pem(cert))) == expected


@pytest.mark.parametrize("suffix", [b"", b"\n", b"\r\n", b"\x00\x00"], ids=["exact", "lf", "crlf", "nul-padding"])
def test_der_is_accepted(recording: tuple[x509.Certificate, ParsedCertificate], suffix: bytes) -> None:
    cert, expected = recording
    assert parse_certificate(pki.der(cert) + suffix) == expected


def test_parsed_fields(recording: tuple[x509.Certificate, ParsedCertificate]) -> None:
    cert, parsed = recording
    assert parsed.der == pki.der(cert)
    assert parsed.pem == pki.pem(cert).decode()
    assert parsed.subject_dn == parsed.issuer_dn == pki.SEED_SUBJECT_DN
    assert parsed.not_valid_before.tzinfo is not None
    assert parsed.not_valid_before.utcoffset() == timedelta(0)
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", parsed.sha256_fingerprint)
    assert parsed.extensions == ()


def test_larger_rsa_keys_are_accepted() -> None:
    cert, _ = pki.make_self_signed(key=pki.make_key(3072))
    assert parse_certificate(pki.der(cert)).key_size == 3072


# --- What is refused, and what the user is told -------------------------------------------------------------------


def _cert() -> x509.Certificate:
    return pki.make_self_signed()[0]


def _other_cert() -> x509.Certificate:
    return pki.make_self_signed(key=pki.make_key(2048, 3), cn="Other")[0]


def _csr_der() -> bytes:
    return x509.load_pem_x509_csr(pki.make_csr()).public_bytes(serialization.Encoding.DER)


def _crl_der() -> bytes:
    return x509.load_pem_x509_crl(pki.make_crl(*_ca())).public_bytes(serialization.Encoding.DER)


def _spki_der() -> bytes:
    public_format = serialization.PublicFormat.SubjectPublicKeyInfo
    return pki.make_key().public_key().public_bytes(serialization.Encoding.DER, public_format)


def _pem_block(label: str, der: bytes) -> bytes:
    return f"-----BEGIN {label}-----\n".encode() + base64.encodebytes(der) + f"-----END {label}-----\n".encode()


def _holds(count: int) -> str:
    return f"The file holds {count} certificates; upload only the recording certificate (chains are not accepted)."


SSH2_PUBLIC_KEY = b'---- BEGIN SSH2 PUBLIC KEY ----\nComment: "x"\nAAAA\n---- END SSH2 PUBLIC KEY ----\n'
REFUSALS: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", parsing.MSG_EMPTY),
    "blank": (lambda: b" \r\n\t\n", parsing.MSG_EMPTY),
    "bom-only": (lambda: b"\xef\xbb\xbf", parsing.MSG_EMPTY),
    "too-large": (lambda: b"A" * (256 * 1024 + 1), "The file is larger than 256 KB; a certificate is a few KB."),
    "key-traditional": (lambda: pki.key_pem_traditional(pki.make_key()), parsing.MSG_PRIVATE_KEY),
    "key-pkcs8": (lambda: pki.key_pem_pkcs8(pki.make_key()), parsing.MSG_PRIVATE_KEY),
    "key-pkcs8-encrypted": (lambda: pki.key_pem_pkcs8_encrypted(pki.make_key(), "secret"), parsing.MSG_PRIVATE_KEY),
    "key-ec": (lambda: pki.key_pem_traditional(pki.make_ec_key()), parsing.MSG_PRIVATE_KEY),
    "key-openssh": (lambda: pki.ssh_private_key(pki.make_key()), parsing.MSG_PRIVATE_KEY),
    "key-pkcs8-der": (lambda: pki.key_der_pkcs8(pki.make_key()), parsing.MSG_PRIVATE_KEY),
    "key-pkcs8-der-encrypted": (lambda: pki.key_der_pkcs8(pki.make_key(), b"secret"), parsing.MSG_PRIVATE_KEY),
    "key-traditional-der": (lambda: pki.key_der_traditional(pki.make_key()), parsing.MSG_PRIVATE_KEY),
    "key-ec-der": (lambda: pki.key_der_pkcs8(pki.make_ec_key()), parsing.MSG_PRIVATE_KEY),
    "putty": (lambda: b"PuTTY-User-Key-File-3: ssh-rsa\nEncryption: none\n", parsing.MSG_PRIVATE_KEY),
    "key-after-cert": (lambda: pki.pem(_cert()) + pki.key_pem_pkcs8(pki.make_key()), parsing.MSG_KEY_AND_CERT),
    "key-before-cert": (lambda: pki.key_pem_traditional(pki.make_key()) + pki.pem(_cert()), parsing.MSG_KEY_AND_CERT),
    "csr": (pki.make_csr, parsing.MSG_CSR),
    "csr-der": (_csr_der, parsing.MSG_CSR),
    "crl": (lambda: pki.make_crl(*_ca(), revoked=[5]), parsing.MSG_CRL),
    "crl-der": (_crl_der, parsing.MSG_CRL),
    "p7b": (lambda: pki.make_p7b([_cert()]), parsing.MSG_PKCS7),
    "p7b-der": (lambda: pki.make_p7b([_cert()], encoding=serialization.Encoding.DER), parsing.MSG_PKCS7),
    "p12": (lambda: pki.make_p12(pki.make_key(), _cert()), parsing.MSG_PKCS12),
    "p12-encrypted": (lambda: pki.make_p12(pki.make_key(), _cert(), b"secret"), parsing.MSG_PKCS12),
    "public-key": (lambda: pki.public_key_pem(pki.make_key()), parsing.MSG_PUBLIC_KEY),
    "public-key-pkcs1": (lambda: pki.public_key_pem(pki.make_key(), pkcs1=True), parsing.MSG_PUBLIC_KEY),
    "public-key-der": (_spki_der, parsing.MSG_PUBLIC_KEY),
    "ssh-rsa": (lambda: pki.ssh_public_key(pki.make_key()), parsing.MSG_SSH_KEY),
    "ssh-ed25519": (lambda: pki.ssh_public_key(ed25519.Ed25519PrivateKey.generate()), parsing.MSG_SSH_KEY),
    "ssh2-public": (lambda: SSH2_PUBLIC_KEY, parsing.MSG_SSH_KEY),
    "plain-text": (lambda: b"Hello, this is the recording certificate you asked for.\n", parsing.MSG_NEITHER),
    "random-binary": (lambda: bytes(range(256)) * 4, parsing.MSG_NEITHER),
    "zip": (lambda: b"PK\x03\x04" + bytes(100), parsing.MSG_NEITHER),
    "pem-lowercase": (lambda: pki.pem(_cert()).replace(b"CERTIFICATE", b"certificate"), parsing.MSG_NEITHER),
    "unknown-label": (
        lambda: _pem_block("FOO BAR", b"\x30\x00"),
        "The file holds a PEM 'FOO BAR' block, not a certificate.",
    ),
    "two-pem": (lambda: pki.pem(_cert()) + pki.pem(_other_cert()), _holds(2)),
    "three-pem": (lambda: pki.pem(_cert()) + pki.pem(_other_cert()) + pki.pem(_cert()), _holds(3)),
    "two-der": (lambda: pki.der(_cert()) + pki.der(_other_cert()), _holds(2)),
    "two-in-one-block": (lambda: _pem_block("CERTIFICATE", pki.der(_cert()) + pki.der(_other_cert())), _holds(2)),
    "cert-then-csr-der": (lambda: pki.der(_cert()) + _csr_der(), parsing.MSG_OTHER_DATA),
    "missing-end": (lambda: pki.pem(_cert()).split(b"-----END")[0], parsing.MSG_INCOMPLETE_PEM),
    "bad-base64": (lambda: pki.pem(_cert()).replace(b"\n", b"\n!", 3), parsing.MSG_BAD_BASE64),
    "pem-headers": (
        lambda: pki.pem(_cert()).replace(b"-----\n", b"-----\nProc-Type: 4,ENCRYPTED\n\n", 1),
        parsing.MSG_BAD_BASE64,
    ),
    "truncated-pem-body": (lambda: _pem_block("CERTIFICATE", pki.der(_cert())[:300]), parsing.MSG_DAMAGED),
    "empty-pem-body": (lambda: _pem_block("CERTIFICATE", b""), parsing.MSG_DAMAGED),
    "key-in-cert-block": (
        lambda: _pem_block("CERTIFICATE", pki.key_der_pkcs8(pki.make_key())),
        parsing.MSG_PRIVATE_KEY,
    ),
    "truncated-der": (lambda: pki.der(_cert())[:-10], parsing.MSG_DAMAGED),
    "der-header-only": (lambda: pki.der(_cert())[:40], parsing.MSG_DAMAGED),
    "der-trailing-garbage": (lambda: pki.der(_cert()) + b"garbage", parsing.MSG_DAMAGED),
}


@pytest.mark.parametrize(("make", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_name_what_the_file_is(make: Callable[[], bytes], message: str) -> None:
    assert rejected(make()) == message


def test_size_limit_is_configurable() -> None:
    cert, _ = pki.make_self_signed()
    assert rejected(pki.pem(cert), max_bytes=1024) == "The file is larger than 1 KB; a certificate is a few KB."
    assert parse_certificate(pki.pem(cert), max_bytes=len(pki.pem(cert))).subject_name == "Genesys Recording"


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (lambda: pki.make_ec_key(ec.SECP256R1()), "EC (P-256)"),
        (lambda: pki.make_ec_key(ec.SECP384R1()), "EC (P-384)"),
        (lambda: pki.make_ec_key(ec.SECP256K1()), "EC (secp256k1)"),
        (ed25519.Ed25519PrivateKey.generate, "Ed25519"),
        (ed448.Ed448PrivateKey.generate, "Ed448"),
        (lambda: dsa.generate_private_key(1024), "DSA (1024 bits)"),
    ],
    ids=["p256", "p384", "secp256k1", "ed25519", "ed448", "dsa"],
)
def test_non_rsa_keys_are_refused(key: Callable[[], pki.CertificateIssuerPrivateKeyTypes], words: str) -> None:
    cert, _ = pki.make_self_signed(key=key())
    assert rejected(pki.pem(cert)) == (
        f"The certificate's key is {words}; recording certificates must be RSA, 2048 bits or more."
    )


def test_short_rsa_key_is_refused_under_the_minimum_it_is_given() -> None:
    cert, _ = pki.make_self_signed(key=pki.make_key(1024))
    assert rejected(pki.pem(cert)) == "The certificate's RSA key is 1024 bits; at least 2048 are required."
    three_k, _ = pki.make_self_signed(key=pki.make_key(3072))
    assert rejected(pki.pem(three_k), min_rsa_bits=4096) == (
        "The certificate's RSA key is 3072 bits; at least 4096 are required."
    )
    # Without a minimum (a certificate accepted earlier, read again) the size is described, not judged.
    assert parse_certificate(pki.pem(cert)).key_size == 1024
    ec_cert, _ = pki.make_self_signed(key=pki.make_ec_key(ec.SECP256R1()))
    assert rejected(pki.pem(ec_cert), min_rsa_bits=None) == (
        "The certificate's key is EC (P-256); recording certificates must be RSA."
    )


@pytest.mark.parametrize("serial_octet", [b"\xfb", b"\x00"], ids=["negative", "zero"])
def test_non_positive_serial_is_refused_without_cryptography_warning(
    serial_octet: bytes, recwarn: pytest.WarningsRecorder
) -> None:
    cert, _ = pki.make_self_signed(serial=5)
    data = pki.replace_once(pki.der(cert), b"\x02\x01\x05", b"\x02\x01" + serial_octet)
    assert rejected(data) == parsing.MSG_BAD_SERIAL
    assert not recwarn.list


def test_malformed_extension_is_refused() -> None:
    broken = x509.UnrecognizedExtension(x509.oid.ExtensionOID.BASIC_CONSTRAINTS, b"\x01\x02")
    cert, _ = pki.make_self_signed(extensions=[(broken, False)])
    assert rejected(pki.der(cert)) == (
        "The certificate's Basic Constraints (2.5.29.19) extension is malformed; create a new certificate."
    )


def test_invalid_version_is_refused() -> None:
    cert, _ = pki.make_self_signed()
    assert rejected(pki.replace_once(pki.der(cert), b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x05")) == (
        "The certificate's version cannot be read: it is malformed or in an encoding this portal does not support. "
        "Create a new certificate."
    )


def test_unknown_key_algorithm_is_refused() -> None:
    cert, _ = pki.make_self_signed()
    data = pki.replace_once(pki.der(cert), RSA_ENCRYPTION, RSA_ENCRYPTION[:-1] + b"\x7e")
    assert rejected(data) == (
        "The certificate's key is of an unsupported type (1.2.840.113549.1.1.126); "
        "recording certificates must be RSA, 2048 bits or more."
    )


def test_unknown_signature_algorithm_reads_but_does_not_verify() -> None:
    cert, _ = pki.make_self_signed()
    data = pki.der(cert).replace(SHA256_WITH_RSA, SHA256_WITH_RSA[:-1] + b"\x7f")  # both AlgorithmIdentifiers

    parsed = parse_certificate(data)
    assert parsed.signature_algorithm == "1.2.840.113549.1.1.127"
    assert not parsed.is_self_signed
    assert verify_chain(parsed, [], at=datetime.now(UTC)) == ChainResult(
        False,
        "The certificate's signature algorithm (1.2.840.113549.1.1.127) is not supported, "
        "so its signature cannot be verified.",
    )


def test_lazy_field_failures_become_a_certificate_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # cryptography reads some fields only when asked; whatever it raises then must still reach the user as one sentence.
    def unreadable(name: x509.Name) -> str:
        raise ValueError("error parsing asn1 value: ParseError { kind: InvalidValue }")

    monkeypatch.setattr(parsing, "dn", unreadable)
    assert rejected(pki.pem(pki.make_self_signed()[0])) == (
        "The certificate's subject cannot be read: it is malformed or in an encoding this portal does not support. "
        "Create a new certificate."
    )


def test_out_of_spec_name_still_reads() -> None:
    with pytest.warns(UserWarning, match="length"):
        subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "USA", _validate=False)])
    cert, _ = pki.make_self_signed(subject=subject)
    with pytest.warns(UserWarning, match="length"):  # cryptography's, on reading the three-letter country
        assert parse_certificate(pki.der(cert)).subject_dn == "C=USA"


# --- Root CAs ------------------------------------------------------------------------------------------------------


def test_root_ca_is_accepted() -> None:
    ca_cert, _ = _ca()
    parsed = parse_root_ca(pki.pem(ca_cert))
    assert parsed.subject_name == "Acme Root CA"
    assert ("Basic Constraints", "CA: true (critical)") in parsed.extensions


@pytest.mark.parametrize("leaf", ["issued", "no-basic-constraints"])
def test_non_ca_is_refused_as_root(leaf: str) -> None:
    cert = pki.issue(*_ca())[0] if leaf == "issued" else pki.make_self_signed()[0]
    with pytest.raises(CertificateError, match="^'Genesys Recording' is not a CA certificate"):
        parse_root_ca(pki.pem(cert))


def test_root_ca_parser_refuses_what_the_certificate_parser_refuses() -> None:
    with pytest.raises(CertificateError, match="private key"):
        parse_root_ca(pki.key_pem_pkcs8(pki.make_key()))
