"""Keys that wait for a CA's certificate: made with a placeholder certificate and a request, and given the CA's
certificate later without the key ever leaving the keystore."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from keystore import api
from keystore.models import KeystoreEntry
from keystore.sealing import open_private_key
from tests.certificates import pki

pytestmark = pytest.mark.django_db

SUBJECT = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Waiting recording key")])
MARKER = x509.ObjectIdentifier("2.25.1")
NOW = datetime.now(UTC).replace(microsecond=0)
PLACEHOLDER = api.SelfSigned(SUBJECT, NOW, NOW + timedelta(days=1), style=api.OPENSSL_REQ, marker=MARKER)


def signed_by_ca(csr_der: bytes, public_key: Any = None) -> bytes:
    csr = x509.load_der_x509_csr(csr_der)
    ca_cert, ca_key = pki.make_ca()
    return pki.der(
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key or csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=30))
        .sign(ca_key, hashes.SHA256())
    )


def test_the_request_is_signed_by_the_sealed_key_and_names_the_subject(world: Any) -> None:
    entry, csr_der = api.generate_for_request(world.acme, alias="waiting", bits=2048, placeholder=PLACEHOLDER)
    csr = x509.load_der_x509_csr(csr_der)
    assert csr.is_signature_valid and csr.subject == SUBJECT
    placeholder = x509.load_der_x509_certificate(bytes(entry.certificate_der))
    assert placeholder.extensions.get_extension_for_oid(MARKER).critical is False
    assert placeholder.public_key() == csr.public_key()
    assert x509.load_der_x509_csr(api.signing_request(entry)).public_key() == csr.public_key()


def test_the_cas_certificate_replaces_the_placeholder_and_the_key_still_opens(world: Any) -> None:
    entry, csr_der = api.generate_for_request(world.acme, alias="waiting", bits=2048, placeholder=PLACEHOLDER)
    reply = signed_by_ca(csr_der)
    api.attach_certificate(entry, reply)
    stored = KeystoreEntry.objects.get(pk=entry.pk)
    assert bytes(stored.certificate_der) == reply
    assert open_private_key(stored).public_key() == x509.load_der_x509_csr(csr_der).public_key()
    api.verify_entry(stored)


def test_a_certificate_for_another_key_is_refused_and_nothing_changes(world: Any) -> None:
    entry, csr_der = api.generate_for_request(world.acme, alias="waiting", bits=2048, placeholder=PLACEHOLDER)
    before = bytes(KeystoreEntry.objects.get(pk=entry.pk).sealed_private_key)
    with pytest.raises(api.KeyFileError):
        api.attach_certificate(entry, signed_by_ca(csr_der, public_key=pki.make_key(2048, 7).public_key()))
    stored = KeystoreEntry.objects.get(pk=entry.pk)
    assert bytes(stored.sealed_private_key) == before
    api.verify_entry(stored)


def test_sizes_not_offered_are_refused_before_anything_is_stored(world: Any) -> None:
    with pytest.raises(api.KeyFileError):
        api.generate_for_request(world.acme, alias="waiting", bits=1024, placeholder=PLACEHOLDER)
    assert not KeystoreEntry.objects.exists()
