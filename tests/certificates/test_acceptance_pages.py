"""The refusals where the user is: the upload panel and its JSON preview, import_certificate, restore and the root
CA upload. Nothing is saved."""

from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.models import Certificate, RootCA
from certificates.x509.parsing import CertificateError, parse_root_ca
from keystore.api import MIN_RSA_BITS
from keystore.models import KeystoreEntry
from tests.factories import errors, post_preview, post_upload

from . import pki
from .refused import (
    CRITICAL,
    EMPTY_ISSUER,
    PRIVATE,
    SHA384_WITH_RSA,
    differ_message,
    edited,
    empty_issuer,
    exponent_3_key,
    outer_algorithm,
    reversed_message,
    reversed_validity,
)
from .test_restore import BACKUP_PASSWORD, restore
from .test_rootca import add, error_of


@cache
def refused_pairs() -> list[tuple[x509.Certificate, rsa.RSAPrivateKey, str]]:
    """One certificate per kind of rule, each with its own key (so Save gets past the key check) and its message."""
    cert, key = pki.make_self_signed()
    reversed_cert = reversed_validity(cert, key)
    critical, critical_key = pki.make_self_signed(
        pki.make_key(2048, 4), extensions=[(x509.UnrecognizedExtension(PRIVATE, b"\x05\x00"), True)]
    )
    small, small_key = pki.make_self_signed(exponent_3_key())
    differ_key = pki.make_key(2048, 5)
    differ_der = edited(pki.der(pki.make_self_signed(differ_key)[0]), differ_key, outer_algorithm(SHA384_WITH_RSA))
    return [
        (x509.load_der_x509_certificate(differ_der), differ_key, differ_message("sha384WithRSAEncryption")),
        (reversed_cert, key, reversed_message(reversed_cert)),
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
    reversed_ca = reversed_validity(ca, ca_key)
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
    no_issuer = x509.load_der_x509_certificate(edited(pki.der(ca), ca_key, empty_issuer))
    client = client_for(world.alice)
    for cert, message in (
        (no_issuer, EMPTY_ISSUER),
        (reversed_ca, reversed_message(reversed_ca)),
        (critical_ca, CRITICAL.format(labels="1.3.6.1.4.1.99999.7")),
        (small_ca, "The certificate's RSA public exponent is 3; at least 65537 is required."),
    ):
        assert error_of(add(client, pki.pem(cert))) == message
        with pytest.raises(CertificateError):
            parse_root_ca(pki.der(cert), min_rsa_bits=MIN_RSA_BITS)
    assert not RootCA.objects.exists()
