"""A certificate from a real openssl CA for a key that waits in the keystore: ``request_certificate`` writes the CSR,
openssl signs it, ``add_root_ca`` trusts the CA and ``import_certificate`` without a key file makes the waiting key
an active certificate. A waiting key travels in keystore backups and comes back waiting."""

from pathlib import Path

import pytest
from cryptography import x509

from certificates.models import Certificate, CertificateRequest
from keystore import pfx
from keystore.models import KeystoreEntry
from tests.certificates import pki
from tests.certificates.keygen_cli import (
    SUBJECT_ARGS,
    SUBJECT_DN,
    certificate_modulus,
    counts,
    export_backup,
    fails,
    key_modulus_from_backup,
    keytool_entries,
    openssl,
    restore_backup,
    run,
)

CA_DN = "CN=Acme Test Root CA,O=Acme"
# What a CA puts in a recording certificate it issues.
LEAF_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@pytest.fixture(autouse=True)
def fast_backups(monkeypatch):
    """Backups here are read, not attacked: fewer key-derivation rounds keep the tests quick."""
    monkeypatch.setattr(pfx.contents, "ITERATIONS", 2048)


@pytest.fixture
def ca(tmp_path) -> Path:
    """A root CA made by openssl: ``ca.pem`` and ``ca.key`` in its own folder."""
    folder = tmp_path / "ca"
    folder.mkdir()
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
        "-subj", "/CN=Acme Test Root CA/O=Acme", "-keyout", "ca.key", "-out", "ca.pem",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    (folder / "leaf.ext").write_text(LEAF_EXTENSIONS)
    return folder


def sign(ca: Path, csr: Path, out: Path) -> Path:
    """The CA signs the request, as an administrator of an openssl CA does."""
    openssl(
        "x509", "-req", "-in", str(csr), "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "365", "-sha256", "-extfile", "leaf.ext", "-out", str(out), cwd=ca,
    )  # fmt: skip
    return out


def request(tmp_path: Path, alias: str = "voice-ca") -> Path:
    out = tmp_path / f"{alias}.csr"
    run(
        "request_certificate", "--tenant", "acme", *SUBJECT_ARGS, "--bits", "2048", "--alias", alias,
        "--out", str(out),
    )  # fmt: skip
    return out


def test_the_cas_certificate_activates_the_waiting_key(world, tmp_path, ca, monkeypatch):
    csr = request(tmp_path)
    waiting = CertificateRequest.objects.select_related("entry").get()
    assert (waiting.tenant, waiting.entry.alias, waiting.subject_dn) == (world.acme, "voice-ca", SUBJECT_DN)
    signed = sign(ca, csr, tmp_path / "voice-ca.pem")

    added = run("add_root_ca", "--tenant", "acme", str(ca / "ca.pem"))
    assert "Added the root CA 'Acme Test Root CA' to tenant acme." in added
    printed = run("import_certificate", "--tenant", "acme", str(signed))

    certificate = Certificate.objects.select_related("entry").get()
    assert certificate.entry == waiting.entry and certificate.alias == "voice-ca"
    assert (certificate.subject_dn, certificate.issuer_dn) == (SUBJECT_DN, CA_DN)
    assert not certificate.is_self_signed and certificate.chain_ok
    assert certificate.certificate_der == pki.der(x509.load_pem_x509_certificate(signed.read_bytes()))
    assert not CertificateRequest.objects.exists() and KeystoreEntry.objects.count() == 1
    assert f"Issuer DN:     {CA_DN}" in printed
    assert "Imported the CA's certificate for the waiting key 'voice-ca' into tenant acme." in printed

    # The key behind it leaves in a backup, and a restore into another tenant that trusts the CA brings the
    # certificate and its key back.
    backup = export_backup("acme", tmp_path, monkeypatch)
    assert key_modulus_from_backup(backup, "voice-ca") == certificate_modulus(signed)
    run("add_root_ca", "--tenant", "globex", str(ca / "ca.pem"))
    restore_backup("globex", backup)
    restored = Certificate.objects.select_related("entry").get(tenant=world.globex)
    assert (restored.alias, restored.sha256_fingerprint) == ("voice-ca", certificate.sha256_fingerprint)


def test_a_certificate_for_no_waiting_key_is_refused(world, tmp_path, ca):
    request(tmp_path)
    run("add_root_ca", "--tenant", "acme", str(ca / "ca.pem"))
    openssl(
        "req", "-new", "-subj", "/CN=Genesys Recording/C=US/ST=California/O=Genesys", "-newkey", "rsa:2048",
        "-nodes", "-keyout", "other.key", "-out", "other.csr", cwd=tmp_path,
    )  # fmt: skip
    stranger = sign(ca, tmp_path / "other.csr", tmp_path / "other.pem")
    before = counts()
    assert fails("import_certificate", "--tenant", "acme", str(stranger)) == (
        "Certificate File: This certificate matches no key waiting for a certificate in this tenant."
    )
    assert counts() == before
    assert CertificateRequest.objects.get().entry.alias == "voice-ca"


def test_a_certificate_whose_ca_is_not_trusted_is_refused_and_the_key_keeps_waiting(world, tmp_path, ca):
    signed = sign(ca, request(tmp_path), tmp_path / "voice-ca.pem")
    before = counts()
    message = fails("import_certificate", "--tenant", "acme", str(signed))
    assert message == (f"Certificate File: Issuer '{CA_DN}' is not one of this tenant's trusted root CAs.")
    assert counts() == before and not Certificate.objects.exists()
    # Once the CA is trusted, the same file is accepted.
    run("add_root_ca", "--tenant", "acme", str(ca / "ca.pem"))
    run("import_certificate", "--tenant", "acme", str(signed))
    assert Certificate.objects.get().alias == "voice-ca"


def test_a_waiting_key_travels_in_backups_and_comes_back_waiting(world, tmp_path, ca, monkeypatch):
    csr = request(tmp_path)
    backup = export_backup("acme", tmp_path, monkeypatch)
    assert keytool_entries(backup) == {"voice-ca": "PrivateKeyEntry"}
    assert key_modulus_from_backup(backup, "voice-ca") == openssl("req", "-noout", "-modulus", "-in", str(csr)).strip()

    restore_backup("globex", backup)
    waiting = CertificateRequest.objects.select_related("entry").get(tenant=world.globex)
    assert (waiting.entry.alias, waiting.subject_dn) == ("voice-ca", SUBJECT_DN)
    assert not Certificate.objects.filter(tenant=world.globex).exists()
    # The CA's certificate for the CSR sent before the backup is accepted by the restored key.
    signed = sign(ca, csr, tmp_path / "voice-ca.pem")
    run("add_root_ca", "--tenant", "globex", str(ca / "ca.pem"))
    run("import_certificate", "--tenant", "globex", str(signed))
    assert Certificate.objects.get(tenant=world.globex).issuer_dn == CA_DN
    assert not CertificateRequest.objects.filter(tenant=world.globex).exists()


def test_renewing_a_ca_issued_certificate_waits_for_the_ca(world, tmp_path, ca):
    signed = sign(ca, request(tmp_path), tmp_path / "voice-ca.pem")
    run("add_root_ca", "--tenant", "acme", str(ca / "ca.pem"))
    run("import_certificate", "--tenant", "acme", str(signed))
    predecessor = Certificate.objects.get()

    before = counts()
    assert fails("renew_certificate", "--tenant", "acme", "voice-ca", "--days", "30") == (
        "'voice-ca' was issued by a CA, which decides how long its successor is valid; leave out --days."
    )
    assert counts() == before
    out = tmp_path / "renewal.csr"
    printed = run("renew_certificate", "--tenant", "acme", "voice-ca", "--bits", "2048", "--out", str(out))
    waiting = CertificateRequest.objects.select_related("entry").get()
    assert waiting.renews == predecessor and waiting.subject_dn == SUBJECT_DN
    assert f"Wrote its CSR to {out}" in printed and "waits for the CA's certificate" in printed

    run("import_certificate", "--tenant", "acme", str(sign(ca, out, tmp_path / "renewal.pem")))
    successor = Certificate.objects.exclude(pk=predecessor.pk).get()
    predecessor.refresh_from_db()
    assert successor.renews == predecessor and predecessor.archived_at is None
    assert successor.subject_dn == predecessor.subject_dn and successor.serial_number != predecessor.serial_number
    assert certificate_modulus(signed) != openssl("req", "-noout", "-modulus", "-in", str(out)).strip()


def test_renewing_a_ca_issued_certificate_without_out_says_where_the_csr_is(world, tmp_path, ca):
    signed = sign(ca, request(tmp_path), tmp_path / "voice-ca.pem")
    run("add_root_ca", "--tenant", "acme", str(ca / "ca.pem"))
    run("import_certificate", "--tenant", "acme", str(signed))
    files_before = sorted(tmp_path.iterdir())
    printed = run("renew_certificate", "--tenant", "acme", "voice-ca", "--bits", "2048")
    waiting = CertificateRequest.objects.get()
    assert f"/t/acme/certificates/waiting/{waiting.pk}/csr/" in printed
    assert sorted(tmp_path.iterdir()) == files_before
