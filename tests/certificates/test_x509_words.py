"""How a parsed certificate is described in words: extensions, names, the proposed alias."""

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from certificates.x509.parsing import parse_certificate

from . import pki
from .parsing_helpers import _ca


def test_extensions_in_words() -> None:
    ca_cert, ca_key = _ca()
    leaf_key = pki.make_key(2048, 2)
    extensions = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (pki.key_usage(digital_signature=True, key_encipherment=True), True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, x509.ObjectIdentifier("1.2.3.4.5")]), False),
        (
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("a.example.com"),
                    x509.IPAddress(__import__("ipaddress").ip_address("192.0.2.7")),
                    x509.RFC822Name("ops@example.com"),
                    x509.UniformResourceIdentifier("https://example.com/r"),
                ]
            ),
            False,
        ),
        (x509.SubjectKeyIdentifier(bytes.fromhex("abcdef01")), False),
        (x509.AuthorityKeyIdentifier(bytes.fromhex("0102"), None, None), False),
        (
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier("http://crl.example.com/a.crl")], None, None, None
                    )
                ]
            ),
            False,
        ),
        (
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.example.com")
                    )
                ]
            ),
            False,
        ),
        (x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)]), False),
        (x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x04\x02hi"), False),
        (x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.2"), bytes(40)), False),
    ]
    cert, _ = pki.issue(ca_cert, ca_key, key=leaf_key, extensions=extensions)

    assert parse_certificate(pki.pem(cert)).extensions == (
        ("Basic Constraints", "CA: false (critical)"),
        ("Key Usage", "Digital Signature, Key Encipherment (critical)"),
        ("Extended Key Usage", "Client Authentication, 1.2.3.4.5"),
        (
            "Subject Alternative Name",
            "DNS:a.example.com, IP Address:192.0.2.7, email:ops@example.com, URI:https://example.com/r",
        ),
        ("Subject Key Identifier", "AB:CD:EF:01"),
        ("Authority Key Identifier", "01:02"),
        ("CRL Distribution Points", "URI:http://crl.example.com/a.crl"),
        ("Authority Information Access", "OCSP - URI:http://ocsp.example.com"),
        ("Certificate Policies", "2.5.29.32.0"),
        ("1.3.6.1.4.1.99999.1", "04:02:68:69"),
        ("1.3.6.1.4.1.99999.2", ":".join(["00"] * 32) + "…"),
    )


def test_ca_extensions_in_words() -> None:
    usage = pki.key_usage(key_cert_sign=True, crl_sign=True, key_agreement=True, encipher_only=True)
    extensions = [(x509.BasicConstraints(ca=True, path_length=0), True), (usage, False)]
    cert, _ = pki.make_self_signed(extensions=extensions)
    assert parse_certificate(pki.pem(cert)).extensions == (
        ("Basic Constraints", "CA: true, path length: 0 (critical)"),
        ("Key Usage", "Key Agreement, Certificate Sign, CRL Sign, Encipher Only"),
    )


@pytest.mark.parametrize(
    ("cn", "alias"),
    [
        ("Genesys Recording", "genesys-recording"),
        ("  Zürich Ops / Main!  ", "zurich-ops-main"),
        ("rec_2025.v2", "rec_2025.v2"),
        ("录音", "certificate"),
        ("ⅷ" * 21, "viii" * 21),  # NFKD makes 21 characters 84; the keystore cuts the alias it proposes
        (None, "certificate"),
    ],
)
def test_suggested_alias(cn: str | None, alias: str) -> None:
    cert, _ = pki.make_self_signed(cn=cn)
    assert parse_certificate(pki.pem(cert)).suggested_alias == alias


def test_subject_name_falls_back_to_the_dn() -> None:
    cert, _ = pki.make_self_signed(cn=None)
    assert parse_certificate(pki.pem(cert)).subject_name == "C=US,ST=California,O=Genesys"
    empty, _ = pki.make_self_signed(subject=x509.Name([]))
    parsed = parse_certificate(pki.pem(empty))
    assert (parsed.subject_name, parsed.subject_dn) == ("(no subject)", "")


def test_control_characters_are_escaped() -> None:
    cert, _ = pki.make_self_signed(cn="Evil\nLine\x1b[31m")
    parsed = parse_certificate(pki.pem(cert))
    assert parsed.subject_name == "Evil\\0ALine\\1B[31m"
    assert parsed.subject_dn.startswith("CN=Evil\\0ALine\\1B[31m,")
