"""Restoring recording certificates and keys from a keystore backup (PKCS#12): the same checks as an upload, all
or nothing."""

import html
import re
import shutil
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from certificates.models import Certificate
from keystore.models import KeystoreEntry
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.factories import add_root, save_certificate

BACKUP_PASSWORD = "backup-password-2025"


def restore(client, data: bytes, password: str = BACKUP_PASSWORD, slug: str = "acme"):
    return client.post(
        reverse("certificate-restore", args=[slug]),
        {"backup_file": SimpleUploadedFile("keystore.p12", data), "password": password},
    )


def error_of(response) -> str:
    found = re.search(r'<p class="field-error" role="alert">(.*?)</p>', response.content.decode(), re.S)
    return html.unescape(found[1]) if found else ""


def test_restore_a_pkcs12_file(world, client_for):
    cert, key = pki.make_self_signed()
    response = restore(client_for(world.alice), pki.make_p12(key, cert, BACKUP_PASSWORD.encode()))
    assert response.status_code == 200, error_of(response)
    saved = Certificate.objects.select_related("entry").get()
    assert (saved.tenant, saved.subject_dn, saved.serial_number) == (
        world.acme,
        pki.SEED_SUBJECT_DN,
        str(cert.serial_number),
    )
    assert saved.chain_ok and saved.uploaded_by == world.alice
    text = response.content.decode()
    assert "Imported 1 key" in text and f"<dd>{saved.alias}</dd>" in text
    entry = AuditEntry.objects.get(action="certificate-restored")
    assert entry.details["fingerprint"] == saved.sha256_fingerprint
    assert BACKUP_PASSWORD not in text


def test_restore_the_portals_own_backup_into_another_tenant(world, client_for):
    from keystore.backup import export_keystore
    from portal.audit.log import COMMAND

    save_certificate(world.globex, alias="voice-a")
    save_certificate(world.globex, *pki.make_self_signed(pki.make_key(2048, 3), "Screen"), alias="screen-b")
    backup, count = export_keystore(world.globex, BACKUP_PASSWORD, by=COMMAND)
    assert count == 2
    response = restore(client_for(world.alice), backup)
    assert response.status_code == 200, error_of(response)
    restored = sorted(Certificate.objects.filter(tenant=world.acme).select_related("entry"), key=lambda c: c.alias)
    assert [c.alias for c in restored] == ["screen-b", "voice-a"]
    # Again: everything is already there, so everything is skipped.
    again = restore(client_for(world.alice), backup)
    assert "already in the keystore" in again.content.decode()
    assert Certificate.objects.filter(tenant=world.acme).count() == 2


def test_a_certificate_that_breaks_the_rules_stops_the_whole_restore(world, client_for):
    from keystore.backup import export_keystore
    from portal.audit.log import COMMAND

    ca, ca_key = pki.make_ca("Globex Root CA")
    add_root(world.globex, ca)
    save_certificate(world.globex, alias="fine")
    issued, issued_key = pki.issue(ca, ca_key, "Issued")
    save_certificate(world.globex, issued, issued_key, alias="issued")
    backup, _ = export_keystore(world.globex, BACKUP_PASSWORD, by=COMMAND)
    response = restore(client_for(world.alice), backup)
    assert error_of(response) == (
        "Nothing was restored. 'issued': Issuer 'CN=Globex Root CA,O=Acme' is not one of this tenant's trusted "
        "root CAs."
    )
    assert not Certificate.objects.filter(tenant=world.acme).exists()
    assert not KeystoreEntry.objects.filter(tenant=world.acme).exists()
    assert not AuditEntry.objects.filter(tenant=world.acme).exists()


def test_refused_files(world, client_for):
    cert, key = pki.make_self_signed()
    client = client_for(world.alice)
    assert error_of(restore(client, pki.make_p12(key, cert, b"another-password"))) != ""
    assert error_of(restore(client, b"not a keystore")) != ""
    assert error_of(client.post(reverse("certificate-restore", args=["acme"]))) == (
        "Choose the keystore backup file (.p12 or .pfx)."
    )
    with override_settings(PORTAL_MAX_UPLOAD_BYTES=1024):
        assert error_of(restore(client, pki.make_p12(key, cert, BACKUP_PASSWORD.encode()))).startswith(
            "The backup file is larger than 1 KB"
        )
    assert not KeystoreEntry.objects.exists()


@pytest.mark.skipif(shutil.which("keytool") is None, reason="needs Java's keytool")
def test_restore_a_keytool_keystore(world, client_for, tmp_path):
    store = tmp_path / "recording.p12"
    subprocess.run(
        [
            "keytool", "-genkeypair", "-alias", "recording", "-keyalg", "RSA", "-keysize", "2048",
            "-dname", "CN=Genesys Recording, C=US, ST=California, O=Genesys", "-validity", "3650",
            "-keystore", str(store), "-storetype", "PKCS12",
            "-storepass", BACKUP_PASSWORD, "-keypass", BACKUP_PASSWORD,
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    response = restore(client_for(world.alice), store.read_bytes())
    assert response.status_code == 200, error_of(response)
    saved = Certificate.objects.get()
    assert saved.alias == "recording"
    assert saved.subject_name == "Genesys Recording"
    # keytool's -dname is written last RDN first, and the portal shows the certificate's own order.
    assert saved.subject_dn == "O=Genesys,ST=California,C=US,CN=Genesys Recording"


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("bob", 404)])
def test_restore_requires_the_right_role(world, client_for, who, status):
    cert, key = pki.make_self_signed()
    client = client_for(getattr(world, who))
    assert client.get(reverse("certificate-restore", args=["acme"])).status_code == status
    assert restore(client, pki.make_p12(key, cert, BACKUP_PASSWORD.encode())).status_code == status
    assert not KeystoreEntry.objects.exists()
