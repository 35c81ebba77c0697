"""Running the key-generation commands as an operator does, and reading what they made with real openssl and the
JDK's keytool: the key leaves the portal only in a keystore backup."""

import io
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.models import Certificate, CertificateRequest
from keystore.models import KeystoreEntry
from portal.audit.models import AuditEntry
from tests.keystore import helpers as keystore_helpers

BACKUP_PASSWORD = "backup password for the test 2026"
SUBJECT_ARGS = ("--cn", "Genesys Recording", "--country", "US", "--state", "California", "--org", "Genesys")
SUBJECT_DN = "CN=Genesys Recording,C=US,ST=California,O=Genesys"


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def fails(command: str, *args: str) -> str:
    """The command's refusal: one line, exit status 1, no traceback."""
    with pytest.raises(CommandError) as failed:
        run(command, *args)
    message = str(failed.value)
    assert failed.value.returncode == 1
    assert "\n" not in message and "Traceback" not in message, message
    return message


def counts() -> dict[str, int]:
    """What a refusal must leave unchanged."""
    return {
        "entries": KeystoreEntry.objects.count(),
        "certificates": Certificate.objects.count(),
        "waiting": CertificateRequest.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def openssl(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    """openssl's output; it must succeed."""
    done = subprocess.run(["openssl", *args], capture_output=True, cwd=cwd, input=input, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def export_backup(tenant_slug: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tenant's keystore backup, written by ``export_keystore`` as an operator runs it."""
    monkeypatch.setenv("PORTAL_KEYSTORE_PASSWORD", BACKUP_PASSWORD)
    out = folder / f"{tenant_slug}.p12"
    run("export_keystore", "--tenant", tenant_slug, "--out", str(out), "--overwrite")
    return out


def key_modulus_from_backup(backup: Path, alias: str) -> str:
    """The modulus of the key under ``alias`` in the backup, as openssl reads it out of the PKCS#12 file."""
    keys = openssl("pkcs12", "-in", str(backup), "-nocerts", "-nodes", "-passin", f"pass:{BACKUP_PASSWORD}")
    blocks = re.findall(r"Bag Attributes\n(.*?)(-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----)", keys, re.S)
    [key] = [pem for attributes, pem in blocks if f"friendlyName: {alias}\n" in attributes]
    return openssl("rsa", "-noout", "-modulus", input=key.encode()).strip()


def certificate_modulus(pem_path: Path) -> str:
    return openssl("x509", "-noout", "-modulus", "-in", str(pem_path)).strip()


def keytool_entries(path: Path) -> dict[str, str]:
    return keystore_helpers.keytool_entries(path, BACKUP_PASSWORD)


def restore_backup(tenant_slug: str, backup: Path) -> str:
    password_file = backup.with_suffix(".password")
    password_file.write_text(BACKUP_PASSWORD + "\n")
    return run("restore_backup", "--tenant", tenant_slug, "--password-file", str(password_file), str(backup))
