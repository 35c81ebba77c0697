"""Certificates that read but must be refused: what Java will not load, validity reversed, a critical extension the
Recording Crypto Server (Java) does not recognise, an RSA public exponent below 65537. Each has its message wherever
a certificate comes in (upload panel, JSON preview, import_certificate, root CA upload, restore); stored ones still
open."""

import shutil
import subprocess
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtensionOID
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.models import Certificate, RootCA
from certificates.x509.acceptance import RECOGNISED_CRITICAL_EXTENSIONS
from certificates.x509.parsing import CertificateError, parse_certificate, parse_root_ca
from keystore.api import MIN_RSA_BITS
from keystore.models import KeystoreEntry
from tests.factories import errors, post_preview, post_upload

from . import der_edit as de
from . import pki
from .parsing_helpers import rejected
from .test_restore import BACKUP_PASSWORD, restore
from .test_rootca import add, error_of

PRIVATE = x509.ObjectIdentifier("1.3.6.1.4.1.99999.7")


def _reversed(cert: x509.Certificate, key: rsa.RSAPrivateKey, *, by_a_second: bool = False) -> x509.Certificate:
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


def _edited(der: bytes, key: rsa.RSAPrivateKey, edit: Callable[[de.Certificate], None]) -> bytes:
    """``der`` changed by ``edit`` and signed again by ``key``."""
    edited = de.Certificate.of(der)
    edit(edited)
    return edited.der(key)


def _without_version(c: de.Certificate) -> None:
    del c.fields[de.VERSION]  # a v1 certificate, keeping its extensions


def _empty_issuer(c: de.Certificate) -> None:
    c.fields[de.ISSUER] = de.seq()


def _outer_algorithm(dotted: str) -> Callable[[de.Certificate], None]:
    def edit(c: de.Certificate) -> None:
        assert c.tree.children is not None
        c.tree.children[1] = de.seq(de.oid(dotted), de.Tlv(de.NULL))

    return edit


SHA384_WITH_RSA, SHA1_WITH_RSA = "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.5"
# Certificates cryptography reads and Java's CertificateFactory refuses to load.
JAVA_WILL_NOT_LOAD: dict[str, Callable[[de.Certificate], None]] = {
    "version-1-with-extensions": _without_version,
    "empty-issuer": _empty_issuer,
    "signature-algorithms-differ-sha384": _outer_algorithm(SHA384_WITH_RSA),
    "signature-algorithms-differ-sha1": _outer_algorithm(SHA1_WITH_RSA),
}
V1_WITH_EXTENSIONS = (
    "The certificate is version 1 but has extensions, which only version 3 allows, and Java refuses it. "
    "Create a new certificate."
)
EMPTY_ISSUER = (
    "The certificate's issuer is empty; X.509 requires one, and Java refuses a certificate without it. "
    "Create a new certificate."
)


def _differ(outer: str) -> str:
    return (
        f"The certificate names two signature algorithms, sha256WithRSAEncryption in its signed part and {outer} "
        "outside it; X.509 requires the same one, and Java refuses such a certificate. Create a new certificate."
    )


def _with_exponent(exponent: int) -> bytes:
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


def _critical(*extensions: x509.ExtensionType) -> bytes:
    return pki.der(pki.make_self_signed(extensions=[(value, True) for value in extensions])[0])


REVERSED = (
    "The certificate's validity period is reversed: it starts on {start} UTC, after it ends on {end} UTC, so it is "
    "valid at no time. Create a new certificate."
)
CRITICAL = (
    "The certificate has a critical extension that the Recording Crypto Server does not recognise: {labels}. Such a "
    "certificate must be refused (RFC 5280); create a new certificate without it, or with it marked non-critical."
)


def _reversed_message(cert: x509.Certificate) -> str:
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    return REVERSED.format(start=f"{start:%Y-%m-%d %H:%M:%S}", end=f"{end:%Y-%m-%d %H:%M:%S}")


# --- The parser ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("by_a_second", [False, True], ids=["swapped", "by-a-second"])
def test_reversed_validity_is_refused_in_words(by_a_second: bool) -> None:
    cert, key = pki.make_self_signed()
    bad = _reversed(cert, key, by_a_second=by_a_second)
    assert bad.not_valid_before_utc > bad.not_valid_after_utc
    assert rejected(pki.der(bad)) == _reversed_message(bad)


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
    assert rejected(_critical(*extensions)) == CRITICAL.format(labels=labels)


def test_several_unrecognised_critical_extensions_are_all_named() -> None:
    message = rejected(_critical(x509.UnrecognizedExtension(PRIVATE, b"\x05\x00"), x509.PrecertPoison()))
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
        (lambda: _with_exponent(17), "is 17; at least 65537 is required."),
        (lambda: _with_exponent(1), "is 1; at least 65537 is required."),
        (lambda: _with_exponent(65538), "is 65538, an even number, which RSA cannot use."),
    ],
    ids=["3", "17", "1", "even"],
)
def test_small_or_even_rsa_exponent_is_refused(make: Callable[[], bytes], message: str) -> None:
    assert rejected(make()) == f"The certificate's RSA public exponent {message}"


def test_the_rules_apply_to_new_certificates_only() -> None:
    # A certificate stored before a rule existed still opens (list, detail, download, chain checks).
    cert, key = pki.make_self_signed()
    for data in (
        pki.der(_reversed(cert, key)),
        _critical(x509.UnrecognizedExtension(PRIVATE, b"\x05\x00")),
        pki.der(pki.make_self_signed(exponent_3_key())[0]),
    ):
        with pytest.raises(CertificateError):
            parse_certificate(data, min_rsa_bits=MIN_RSA_BITS)
        assert parse_certificate(data).subject_name == "Genesys Recording"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: _edited(*_self_signed_with_extension(), _without_version), V1_WITH_EXTENSIONS),
        (
            lambda: _edited(pki.der(pki.issue(*pki.make_ca())[0]), pki.make_ca()[1], _without_version),
            V1_WITH_EXTENSIONS,
        ),
        (lambda: _edited(*_self_signed(), _empty_issuer), EMPTY_ISSUER),
        (lambda: _edited(pki.der(pki.issue(*pki.make_ca())[0]), pki.make_ca()[1], _empty_issuer), EMPTY_ISSUER),
        (lambda: _edited(*_self_signed(), _outer_algorithm(SHA384_WITH_RSA)), _differ("sha384WithRSAEncryption")),
        (lambda: _edited(*_self_signed(), _outer_algorithm(SHA1_WITH_RSA)), _differ("sha1WithRSAEncryption")),
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


# --- Where the user is -------------------------------------------------------------------------------------------


@cache
def refused_pairs() -> list[tuple[x509.Certificate, rsa.RSAPrivateKey, str]]:
    """One certificate per kind of rule, each with its own key (so Save gets past the key check) and its message."""
    cert, key = pki.make_self_signed()
    reversed_cert = _reversed(cert, key)
    critical, critical_key = pki.make_self_signed(
        pki.make_key(2048, 4), extensions=[(x509.UnrecognizedExtension(PRIVATE, b"\x05\x00"), True)]
    )
    small, small_key = pki.make_self_signed(exponent_3_key())
    differ_key = pki.make_key(2048, 5)
    differ_der = _edited(pki.der(pki.make_self_signed(differ_key)[0]), differ_key, _outer_algorithm(SHA384_WITH_RSA))
    return [
        (x509.load_der_x509_certificate(differ_der), differ_key, _differ("sha384WithRSAEncryption")),
        (reversed_cert, key, _reversed_message(reversed_cert)),
        (critical, critical_key, CRITICAL.format(labels="1.3.6.1.4.1.99999.7")),
        (small, small_key, "The certificate's RSA public exponent is 3; at least 65537 is required."),
    ]


def test_upload_panel_and_preview_show_the_refusal(world, client_for) -> None:
    client = client_for(world.alice)
    for cert, key, message in refused_pairs():
        preview = post_preview(client, "acme", pki.pem(cert), None).json()
        assert preview["errors"] == {"certificate_file": message}
        assert preview["certificate"] is None
        saved = post_upload(client, "acme", pki.pem(cert), pki.key_pem_traditional(key))
        assert saved.status_code == 200
        assert errors(saved) == {"certificate_file": message}
    assert not Certificate.objects.exists() and not KeystoreEntry.objects.exists()


def test_import_command_shows_the_refusal(world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORTAL_KEY_PASSWORD", raising=False)
    for cert, key, message in refused_pairs():
        cert_path, key_path = tmp_path / "tenant.pem", tmp_path / "tenant.key"
        cert_path.write_bytes(pki.pem(cert))
        key_path.write_bytes(pki.key_pem_traditional(key))
        with pytest.raises(CommandError) as raised:
            call_command("import_certificate", "--tenant", "acme", str(cert_path), str(key_path))
        assert f"Certificate File: {message}" in str(raised.value)
    assert not Certificate.objects.exists()


def test_restore_shows_the_refusal(world, client_for) -> None:
    client = client_for(world.alice)
    for cert, key, message in refused_pairs():
        response = restore(client, pki.make_p12(key, cert, BACKUP_PASSWORD.encode()))
        assert error_of(response) == f"Nothing was restored. 'recording': {message}"
    assert not KeystoreEntry.objects.exists()


def test_root_ca_upload_shows_the_refusal(world, client_for) -> None:
    ca, ca_key = pki.make_ca()
    reversed_ca = _reversed(ca, ca_key)
    critical_ca = pki.build(
        ca.subject,
        ca.subject,
        ca_key.public_key(),
        ca_key,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (x509.UnrecognizedExtension(PRIVATE, b"\x05\x00"), True),
        ],
    )
    small_ca, _ = pki.make_ca(key=exponent_3_key())
    no_issuer = x509.load_der_x509_certificate(_edited(pki.der(ca), ca_key, _empty_issuer))
    client = client_for(world.alice)
    for cert, message in (
        (no_issuer, EMPTY_ISSUER),
        (reversed_ca, _reversed_message(reversed_ca)),
        (critical_ca, CRITICAL.format(labels="1.3.6.1.4.1.99999.7")),
        (small_ca, "The certificate's RSA public exponent is 3; at least 65537 is required."),
    ):
        assert error_of(add(client, pki.pem(cert))) == message
        with pytest.raises(CertificateError):
            parse_root_ca(pki.der(cert), min_rsa_bits=MIN_RSA_BITS)
    assert not RootCA.objects.exists()


# --- Java agrees ---------------------------------------------------------------------------------------------------

PKIX_CHECK = """
import java.io.FileInputStream;
import java.security.cert.*;
import java.util.*;

public class PkixCheck {
    public static void main(String[] args) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        X509Certificate root = (X509Certificate) factory.generateCertificate(new FileInputStream(args[0]));
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false);
        for (int i = 1; i < args.length; i++) {
            try {
                X509Certificate leaf = (X509Certificate) factory.generateCertificate(new FileInputStream(args[i]));
                CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(List.of(leaf)), parameters);
                System.out.println("accepted");
            } catch (CertificateException | CertPathValidatorException e) {
                System.out.println("refused: " + e.getMessage());
            }
        }
    }
}
"""


def _critical_extensions(key: rsa.RSAPrivateKey, ca_key: rsa.RSAPrivateKey) -> dict[str, x509.ExtensionType]:
    uri = x509.UniformResourceIdentifier("http://crl.example/")
    point = x509.DistributionPoint([uri], None, None, None)
    access = x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP, uri)
    return {
        "key-usage": pki.key_usage(digital_signature=True, key_encipherment=True),
        "extended-key-usage": x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.CLIENT_AUTH]),
        "subject-alternative-name": x509.SubjectAlternativeName([x509.DNSName("recording.example")]),
        "name-constraints": x509.NameConstraints([x509.DNSName("example")], None),
        "certificate-policies": x509.CertificatePolicies(
            [x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)]
        ),
        "policy-mappings": x509.UnrecognizedExtension(
            ExtensionOID.POLICY_MAPPINGS, de.seq(de.seq(de.oid("1.2.3.4"), de.oid("1.2.3.5"))).encode()
        ),
        "policy-constraints": x509.PolicyConstraints(require_explicit_policy=None, inhibit_policy_mapping=0),
        "inhibit-any-policy": x509.InhibitAnyPolicy(0),
        "subject-key-identifier": x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
        "authority-key-identifier": x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
        "crl-distribution-points": x509.CRLDistributionPoints([point]),
        "freshest-crl": x509.FreshestCRL([point]),
        "issuer-alternative-name": x509.IssuerAlternativeName([x509.DNSName("ca.example")]),
        "authority-information-access": x509.AuthorityInformationAccess([access]),
        "ocsp-no-check": x509.OCSPNoCheck(),
        "ct-poison": x509.PrecertPoison(),
        "tls-feature": x509.TLSFeature([x509.TLSFeatureType.status_request]),
        "private": x509.UnrecognizedExtension(PRIVATE, b"\x05\x00"),
    }


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")
def test_java_refuses_exactly_what_the_portal_refuses(tmp_path: Path) -> None:
    """Each extension marked critical on a certificate issued by a root CA, and the certificates Java will not even
    load: Java's PKIX validation and the portal give the same verdict on each."""
    ca, ca_key = pki.make_ca()
    key = pki.make_key(2048, 2)
    (tmp_path / "root.der").write_bytes(pki.der(ca))
    (tmp_path / "PkixCheck.java").write_text(PKIX_CHECK)
    basic = (x509.BasicConstraints(ca=False, path_length=None), False)
    leaves = {
        name: pki.der(pki.issue(ca, ca_key, key=key, extensions=[basic, (value, True)])[0])
        for name, value in _critical_extensions(key, ca_key).items()
    }
    issued = pki.der(pki.issue(ca, ca_key, key=key)[0])
    leaves |= {name: _edited(issued, ca_key, edit) for name, edit in JAVA_WILL_NOT_LOAD.items()}
    portal, paths = {}, []
    for name, data in leaves.items():
        paths.append(tmp_path / f"{name}.der")
        paths[-1].write_bytes(data)
        try:
            parse_certificate(data, min_rsa_bits=MIN_RSA_BITS)
            portal[name] = "accepted"
        except CertificateError:
            portal[name] = "refused"
    run = subprocess.run(
        ["java", "PkixCheck.java", "root.der", *map(str, paths)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    java = {name: line.split(":")[0] for name, line in zip(portal, run.stdout.splitlines(), strict=True)}
    assert java == portal
    # Basic Constraints, the ninth, is on every leaf: critical in other tests, not critical here.
    assert len(RECOGNISED_CRITICAL_EXTENSIONS) == 9
    assert {name for name, verdict in java.items() if verdict == "accepted"} == {
        "key-usage",
        "extended-key-usage",
        "subject-alternative-name",
        "name-constraints",
        "certificate-policies",
        "policy-mappings",
        "policy-constraints",
        "inhibit-any-policy",
    }
