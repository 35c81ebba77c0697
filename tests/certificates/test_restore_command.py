"""Restoring a keystore backup on the command line: the web page's restore with a larger budget, for files a web
request refuses; failures are one line and exit 1."""

import io
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.models import Certificate
from keystore import restore_budget
from keystore.backup import export_keystore
from keystore.models import KeystoreEntry
from portal.audit.log import COMMAND
from tests.certificates import pki
from tests.certificates.test_restore import error_of, restore
from tests.factories import save_certificate
from tests.keystore.helpers import openssl

BACKUP_PASSWORD = "backup-password-2025"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("restore_backup", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args: str) -> str:
    with pytest.raises(CommandError) as failed:
        run(*args)
    assert failed.value.returncode == 1
    message = str(failed.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "password.txt"
    path.write_text(BACKUP_PASSWORD + "\n")
    return path


@pytest.fixture
def openssl_backup(tmp_path):
    """A key and its certificate exported by openssl: three derivations (key, certificates, MAC) of 2,048 rounds."""
    cert, key = pki.make_self_signed()
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "c.pem").write_bytes(pki.pem(cert))
    made = openssl(
        "pkcs12", "-export", "-in", "c.pem", "-inkey", "k.pem", "-name", "recording", "-iter", "2048",
        "-passout", f"pass:{BACKUP_PASSWORD}", "-out", "openssl.p12", cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return tmp_path / "openssl.p12"


def test_the_portals_own_backup_is_restored_with_a_summary(world, tmp_path, password_file):
    save_certificate(world.globex, alias="voice-a")
    save_certificate(world.globex, *pki.make_self_signed(pki.make_key(2048, 3), "Screen"), alias="screen-b")
    data, _ = export_keystore(world.globex, BACKUP_PASSWORD, by=COMMAND)
    (tmp_path / "backup.p12").write_bytes(data)
    out, err = run("--tenant", "acme", "--password-file", str(password_file), str(tmp_path / "backup.p12"))
    assert out == "acme: Imported 2 keys.\n" and err == ""
    assert sorted(Certificate.objects.filter(tenant=world.acme).values_list("entry__alias", flat=True)) == [
        "screen-b",
        "voice-a",
    ]


def test_a_file_over_the_web_budget_is_sent_to_the_command_which_restores_it(
    world, client_for, openssl_backup, password_file, monkeypatch
):
    small = restore_budget.Budget(rounds=5_000, items=128, where="in the web page")
    monkeypatch.setattr(restore_budget, "WEB_RESTORE", small)
    response = restore(client_for(world.alice), openssl_backup.read_bytes())
    assert error_of(response) == (
        "The file asks for 6,144 key-derivation rounds in all; a restore in the web page allows at most 5,000. "
        "Restore it on the server with: python manage.py restore_backup --tenant acme FILE"
    )
    assert not KeystoreEntry.objects.exists()
    out, _ = run("--tenant", "acme", "--password-file", str(password_file), str(openssl_backup))
    assert out == "acme: Imported 1 key.\n"
    assert Certificate.objects.select_related("entry").get().alias == "recording"


def test_a_wrong_password_is_one_line(world, openssl_backup, tmp_path):
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("not the password\n")
    message = fails("--tenant", "acme", "--password-file", str(wrong), str(openssl_backup))
    assert message == "Nothing was restored. The keystore password is wrong, or the file was altered."
    assert not KeystoreEntry.objects.exists()


def test_without_a_terminal_or_a_password_file_nothing_is_asked(world, openssl_backup, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    message = fails("--tenant", "acme", str(openssl_backup))
    assert message == "No terminal to ask for the backup password: give it with --password-file FILE."
    assert not KeystoreEntry.objects.exists()


def test_a_terminal_is_asked_for_the_password(world, openssl_backup, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: BACKUP_PASSWORD)
    out, _ = run("--tenant", "acme", str(openssl_backup))
    assert out == "acme: Imported 1 key.\n"


def test_files_and_tenants_that_cannot_be_used(world, tmp_path, password_file, monkeypatch):
    assert fails("--tenant", "nope", "--password-file", str(password_file), str(tmp_path)) == (
        "No tenant with the identifier 'nope'."
    )
    assert fails("--tenant", "acme", "--password-file", str(password_file), str(tmp_path / "missing.p12")) == (
        f"Cannot read {tmp_path / 'missing.p12'}: No such file or directory."
    )
    large = tmp_path / "large.p12"
    large.write_bytes(b"\x30" * 2048)
    monkeypatch.setattr("certificates.management.commands.restore_backup.MAX_BACKUP_BYTES", 1024)
    assert fails("--tenant", "acme", "--password-file", str(password_file), str(large)) == (
        f"{large} is larger than 1 KB; a keystore backup is far smaller."
    )
