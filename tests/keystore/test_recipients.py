"""``keystore.api.RecipientIndex``: the tenant's key a recording was encrypted to, found from the envelope's
recipient as ``openssl cms -encrypt`` writes it (issuer and serial, or ``-keyid``), among active and archived
certificates, and never in another tenant's keystore."""

from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.x509.oid import NameOID

from keystore import api
from tests import factories
from tests.certificates import pki
from tests.keystore.helpers import der, openssl, store


def recipient_of(envelope_der: bytes) -> dict[str, Any]:
    """The first recipient's identifier in an EnvelopedData, as the recording reader hands it to the index."""
    rid = cms.ContentInfo.load(envelope_der)["content"]["recipient_infos"][0].chosen["rid"]
    if rid.name == "issuer_and_serial_number":
        return {"issuer": rid.chosen["issuer"].dump(), "serial": rid.chosen["serial_number"].native}
    return {"subject_key_id": rid.chosen.native}


def encrypted_by_openssl(tmp_path: Path, cert: x509.Certificate, *options: str) -> bytes:
    (tmp_path / "cert.pem").write_bytes(pki.pem(cert))
    (tmp_path / "call.wav").write_bytes(b"RIFF recording")
    done = openssl(
        "cms", "-encrypt", "-binary", "-aes-256-cbc", "-outform", "DER", *options,
        "-in", "call.wav", "-out", "call.wav.bin", "cert.pem", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return (tmp_path / "call.wav.bin").read_bytes()


def der_certificate(certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(certificate.certificate_der)


@pytest.mark.django_db
def test_issuer_and_serial_find_the_entry(world, tmp_path) -> None:
    factories.make_certificate(world.acme, "acme-2025", key_index=1)
    certificate = factories.make_certificate(world.acme, "acme-2026", key_index=0)
    envelope = encrypted_by_openssl(tmp_path, der_certificate(certificate))
    found = api.RecipientIndex.of_tenant(world.acme).entry_for(subject_key_id=None, **recipient_of(envelope))
    assert found is not None and found.alias == "acme-2026"


@pytest.mark.django_db
def test_an_archived_certificates_entry_is_found(world, tmp_path) -> None:
    factories.make_certificate(world.acme, "acme-2026", key_index=0)
    archived = factories.make_certificate(world.acme, "acme-2019", key_index=1, archived=True)
    envelope = encrypted_by_openssl(tmp_path, der_certificate(archived))
    found = api.RecipientIndex.of_tenant(world.acme).entry_for(subject_key_id=None, **recipient_of(envelope))
    assert found is not None and found.alias == "acme-2019"


@pytest.mark.django_db
def test_an_issuer_spelled_in_another_case_is_the_same_name(world) -> None:
    """RFC 5280 compares names without case or extra spaces, as openssl does when it looks for a recipient."""
    certificate = factories.make_certificate(world.acme, "acme-2026", cn="Genesys Recording")
    cert = der_certificate(certificate)
    respelled = pki.make_name("GENESYS  recording", pki.SEED_SUBJECT_EXTRA).public_bytes()
    assert respelled != cert.issuer.public_bytes()
    index = api.RecipientIndex.of_tenant(world.acme)
    found = index.entry_for(issuer=respelled, serial=cert.serial_number, subject_key_id=None)
    assert found is not None and found.alias == "acme-2026"
    assert index.entry_for(issuer=respelled, serial=cert.serial_number + 1, subject_key_id=None) is None


@pytest.mark.django_db
def test_a_declared_subject_key_identifier_finds_the_entry(world, tmp_path) -> None:
    """The extension's value is what ``-keyid`` writes, even when it is not a hash of the key."""
    declared = bytes.fromhex("0123456789abcdef0011")
    cert, key = pki.make_self_signed(
        pki.make_key(2048, 0), "Keyed Recording", extensions=((x509.SubjectKeyIdentifier(declared), False),)
    )
    factories.save_certificate(world.acme, cert, key, alias="acme-keyed")
    factories.make_certificate(world.acme, "acme-other", key_index=1)
    envelope = encrypted_by_openssl(tmp_path, cert, "-keyid")
    assert recipient_of(envelope) == {"subject_key_id": declared}
    found = api.RecipientIndex.of_tenant(world.acme).entry_for(issuer=None, serial=None, subject_key_id=declared)
    assert found is not None and found.alias == "acme-keyed"


@pytest.mark.django_db
def test_without_the_extension_the_key_identifier_is_the_public_keys_sha1(world, tmp_path) -> None:
    """A certificate without the extension is found by what openssl computes for one (``subjectKeyIdentifier =
    hash``): here read from a certificate openssl made for the same key."""
    key = pki.make_key(2048, 0)
    stored = factories.make_certificate(world.acme, "acme-2026", key_index=0)
    assert not any(isinstance(e.value, x509.SubjectKeyIdentifier) for e in der_certificate(stored).extensions)
    (tmp_path / "key.pem").write_bytes(pki.key_pem_pkcs8(key))
    made = openssl("req", "-new", "-x509", "-key", "key.pem", "-subj", "/CN=same key", "-out", "c.pem", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    by_openssl = x509.load_pem_x509_certificate((tmp_path / "c.pem").read_bytes())
    key_id = by_openssl.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    envelope = encrypted_by_openssl(tmp_path, by_openssl, "-keyid")
    assert recipient_of(envelope) == {"subject_key_id": key_id}
    found = api.RecipientIndex.of_tenant(world.acme).entry_for(issuer=None, serial=None, subject_key_id=key_id)
    assert found is not None and found.alias == "acme-2026"


@pytest.mark.django_db
def test_another_tenants_entry_is_never_found(world, tmp_path) -> None:
    theirs, key, cert = store(world.globex, "globex-2026", 3)
    envelope = encrypted_by_openssl(tmp_path, cert)
    by_serial = recipient_of(envelope)
    key_id = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    ours = api.RecipientIndex.of_tenant(world.acme)
    assert ours.entry_for(subject_key_id=None, **by_serial) is None
    assert ours.entry_for(issuer=None, serial=None, subject_key_id=key_id) is None
    # The same certificate in both keystores: each tenant finds its own entry.
    mine = api.store_private_key(world.acme, alias="acme-copy", certificate_der=der(cert), private_key=key)
    found = api.RecipientIndex.of_tenant(world.acme).entry_for(subject_key_id=None, **by_serial)
    assert found is not None and found.pk == mine.pk and found.pk != theirs.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "issuer",
    [b"", b"\x30\x80", b"not a name", b"\x30" + b"\xff" * 12, pki.make_name("Nobody", ((NameOID.COUNTRY_NAME, "US"),))],
    ids=["empty", "indefinite", "text", "bad-length", "unknown-name"],
)
def test_an_unknown_or_malformed_recipient_finds_nothing(world, issuer) -> None:
    certificate = factories.make_certificate(world.acme, "acme-2026")
    serial = der_certificate(certificate).serial_number
    issuer_der = issuer.public_bytes() if isinstance(issuer, x509.Name) else issuer
    index = api.RecipientIndex.of_tenant(world.acme)
    assert index.entry_for(issuer=issuer_der, serial=serial, subject_key_id=None) is None
    assert index.entry_for(issuer=None, serial=None, subject_key_id=b"\x00" * 20) is None
    assert index.entry_for(issuer=None, serial=None, subject_key_id=None) is None
