"""Certificates that read but must be refused: what Java will not load, validity reversed, a critical extension the
Recording Crypto Server (Java) does not recognise, an RSA public exponent below 65537: the parser's refusals, each in
words, and stored certificates still open. test_acceptance_pages.py shows them where the user is,
test_acceptance_java.py holds them against Java's own verdict."""

from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from certificates.x509.parsing import CertificateError, parse_certificate
from keystore.api import MIN_RSA_BITS

from . import pki
from .parsing_helpers import rejected
from .refused import (
    CRITICAL,
    EMPTY_ISSUER,
    PRIVATE,
    SHA1_WITH_RSA,
    SHA384_WITH_RSA,
    V1_WITH_EXTENSIONS,
    critical,
    differ_message,
    edited,
    empty_issuer,
    exponent_3_key,
    outer_algorithm,
    reversed_message,
    reversed_validity,
    with_exponent,
    without_version,
)


@pytest.mark.parametrize("by_a_second", [False, True], ids=["swapped", "by-a-second"])
def test_reversed_validity_is_refused_in_words(by_a_second: bool) -> None:
    cert, key = pki.make_self_signed()
    bad = reversed_validity(cert, key, by_a_second=by_a_second)
    assert bad.not_valid_before_utc > bad.not_valid_after_utc
    assert rejected(pki.der(bad)) == reversed_message(bad)


@pytest.mark.parametrize(
    ("extensions", "labels"),
    [
        ([x509.UnrecognizedExtension(PRIVATE, b"\x05\x00")], "1.3.6.1.4.1.99999.7"),
        ([x509.PrecertPoison()], "CT Precertificate Poison (1.3.6.1.4.1.11129.2.4.3)"),
        (
            [
                x509.FreshestCRL(
                    [x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.example/")], None, None, None)]
                )
            ],
            "Freshest CRL (2.5.29.46)",
        ),
        (
            [x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.make_key().public_key())],
            "Authority Key Identifier (2.5.29.35)",
        ),
    ],
    ids=["private-oid", "ct-poison", "freshest-crl", "authority-key-identifier"],
)
def test_unrecognised_critical_extension_is_refused_by_name(extensions: list, labels: str) -> None:
    assert rejected(critical(*extensions)) == CRITICAL.format(labels=labels)


def test_several_unrecognised_critical_extensions_are_all_named() -> None:
    message = rejected(critical(x509.UnrecognizedExtension(PRIVATE, b"\x05\x00"), x509.PrecertPoison()))
    assert message.startswith(
        "The certificate has critical extensions that the Recording Crypto Server does not recognise: "
        "1.3.6.1.4.1.99999.7, CT Precertificate Poison (1.3.6.1.4.1.11129.2.4.3). "
    )


def test_the_same_extensions_not_critical_and_the_recognised_ones_critical_are_accepted() -> None:
    cert, key = pki.make_self_signed(
        extensions=[
            (x509.UnrecognizedExtension(PRIVATE, b"\x05\x00"), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.make_key().public_key()), False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (pki.key_usage(digital_signature=True, key_encipherment=True), True),
            (x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.CLIENT_AUTH]), True),
            (x509.SubjectAlternativeName([x509.DNSName("recording.example.com")]), True),
        ]
    )
    assert len(parse_certificate(pki.der(cert), min_rsa_bits=MIN_RSA_BITS).extensions) == 6


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: pki.der(pki.make_self_signed(exponent_3_key())[0]), "is 3; at least 65537 is required."),
        (lambda: with_exponent(17), "is 17; at least 65537 is required."),
        (lambda: with_exponent(1), "is 1; at least 65537 is required."),
        (lambda: with_exponent(65538), "is 65538, an even number, which RSA cannot use."),
    ],
    ids=["3", "17", "1", "even"],
)
def test_small_or_even_rsa_exponent_is_refused(make: Callable[[], bytes], message: str) -> None:
    assert rejected(make()) == f"The certificate's RSA public exponent {message}"


def test_the_rules_apply_to_new_certificates_only() -> None:
    # A certificate stored before a rule existed still opens (list, detail, download, chain checks).
    cert, key = pki.make_self_signed()
    for data in (
        pki.der(reversed_validity(cert, key)),
        critical(x509.UnrecognizedExtension(PRIVATE, b"\x05\x00")),
        pki.der(pki.make_self_signed(exponent_3_key())[0]),
    ):
        with pytest.raises(CertificateError):
            parse_certificate(data, min_rsa_bits=MIN_RSA_BITS)
        assert parse_certificate(data).subject_name == "Genesys Recording"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: edited(*_self_signed_with_extension(), without_version), V1_WITH_EXTENSIONS),
        (
            lambda: edited(pki.der(pki.issue(*pki.make_ca())[0]), pki.make_ca()[1], without_version),
            V1_WITH_EXTENSIONS,
        ),
        (lambda: edited(*_self_signed(), empty_issuer), EMPTY_ISSUER),
        (lambda: edited(pki.der(pki.issue(*pki.make_ca())[0]), pki.make_ca()[1], empty_issuer), EMPTY_ISSUER),
        (lambda: edited(*_self_signed(), outer_algorithm(SHA384_WITH_RSA)), differ_message("sha384WithRSAEncryption")),
        (lambda: edited(*_self_signed(), outer_algorithm(SHA1_WITH_RSA)), differ_message("sha1WithRSAEncryption")),
    ],
    ids=["v1-self-signed", "v1-issued", "empty-issuer-self-signed", "empty-issuer-issued", "sha384", "sha1"],
)
def test_what_java_will_not_load_is_refused(make: Callable[[], bytes], message: str) -> None:
    assert rejected(make()) == message
    assert parse_certificate(make()).subject_name == "Genesys Recording"  # stored before the rule: still opens


def _self_signed() -> tuple[bytes, rsa.RSAPrivateKey]:
    cert, key = pki.make_self_signed()
    return pki.der(cert), key


def _self_signed_with_extension() -> tuple[bytes, rsa.RSAPrivateKey]:
    cert, key = pki.make_self_signed(
        extensions=[(x509.SubjectKeyIdentifier.from_public_key(pki.make_key().public_key()), False)]
    )
    return pki.der(cert), key
