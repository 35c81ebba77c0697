"""Restoring a keystore backup on the command line (``restore_keystore``, formerly ``restore_backup``): the web
page's restore with a larger budget, for files a web request refuses, with progress on standard error; failures are
one line and exit 1, with nothing restored."""

import io
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.models import Certificate
from keystore import pfx, restore_budget
from keystore.backup import export_keystore
from keystore.models import KeystoreEntry
from portal.audit.log import COMMAND
from tests.certificates import pki
from tests.certificates.test_restore import error_of, restore
from tests.factories import save_certificate
from tests.keystore.helpers import keytool_entries, openssl, spy_on_derivations

BACKUP_PASSWORD = "backup-password-2025"
OPENING = "Opening {}: deriving its keys from the password can take some seconds."


def run(*args: str, command: str = "restore_keystore") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args: str) -> str:
    with pytest.raises(CommandError) as failed:
        run(*args)
    assert failed.value.returncode == 1
    message = str(failed.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.fixture(autouse=True)
def no_password_in_the_environment(monkeypatch):
    monkeypatch.delenv("PORTAL_KEYSTORE_PASSWORD", raising=False)


@pytest.fixture
def password_in_the_environment(monkeypatch):
    monkeypatch.setenv("PORTAL_KEYSTORE_PASSWORD", BACKUP_PASSWORD)


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


def exported(tenant, folder, count: int):
    """The tenant's backup of ``count`` keys (each with its certificate), as ``export_keystore`` writes it."""
    for index in range(count):
        save_certificate(
            tenant, *pki.make_self_signed(pki.make_key(2048, index), f"Voice {index}"), alias=f"voice-{index}"
        )
    data, _ = export_keystore(tenant, BACKUP_PASSWORD, by=COMMAND)
    path = folder / "backup.p12"
    path.write_bytes(data)
    return path


def test_the_portals_own_backup_is_restored_with_progress_and_a_summary(
    world, tmp_path, password_in_the_environment, monkeypatch
):
    monkeypatch.setattr(pfx.contents, "ITERATIONS", 2048)
    backup = exported(world.globex, tmp_path, 12)
    derivations = spy_on_derivations(monkeypatch)
    out, err = run("--tenant", "acme", "-v", "2", str(backup))
    assert out == "acme: Imported 12 keys.\n"
    # A line before the derivations, which take the time before the first key, then every tenth of the keys; with
    # -v 2, how many derivations the file cost.
    assert err.splitlines() == [
        OPENING.format("backup.p12"),
        *(f"Restoring keys: {done} of 12 done" for done in (2, 4, 6, 8, 10, 12)),
        "Key derivations from the password: 2",
    ]
    # One salt and round count for every bag: one PBKDF2 derivation for the twelve keys and the certificates, one
    # RFC 7292 derivation for the integrity check.
    assert derivations == {"pbkdf2": [2048], "scrypt": [], "pkcs12": [2048], "loader": []}
    assert sorted(Certificate.objects.filter(tenant=world.acme).values_list("entry__alias", flat=True)) == sorted(
        f"voice-{index}" for index in range(12)
    )
    # The same file, as Java and OpenSSL read it.
    assert keytool_entries(backup, BACKUP_PASSWORD) == {f"voice-{index}": "PrivateKeyEntry" for index in range(12)}
    dumped = openssl("pkcs12", "-in", str(backup), "-nodes", "-passin", f"pass:{BACKUP_PASSWORD}")
    assert dumped.returncode == 0, dumped.stderr
    assert dumped.stdout.decode().count("-----BEGIN PRIVATE KEY-----") == 12


def test_the_password_is_read_from_the_variable_password_env_names(world, tmp_path, monkeypatch):
    backup = exported(world.globex, tmp_path, 1)
    monkeypatch.setenv("ACME_BACKUP_PASSWORD", BACKUP_PASSWORD)
    out, err = run("--tenant", "acme", "--password-env", "ACME_BACKUP_PASSWORD", "-v", "0", str(backup))
    assert (out, err) == ("acme: Imported 1 key.\n", "")


def test_the_older_name_restore_backup_is_the_same_command(world, tmp_path, password_file):
    backup = exported(world.globex, tmp_path, 2)
    out, err = run("--tenant", "acme", "--password-file", str(password_file), str(backup), command="restore_backup")
    assert out == "acme: Imported 2 keys.\n"
    assert err.splitlines() == [
        OPENING.format("backup.p12"),
        "Restoring keys: 1 of 2 done",
        "Restoring keys: 2 of 2 done",
    ]
    assert Certificate.objects.filter(tenant=world.acme).count() == 2


def test_a_file_over_the_web_budget_is_sent_to_the_command_which_restores_it(
    world, client_for, openssl_backup, password_in_the_environment, monkeypatch
):
    small = restore_budget.Budget(rounds=5_000, items=128, where="in the web page")
    monkeypatch.setattr(restore_budget, "WEB_RESTORE", small)
    response = restore(client_for(world.alice), openssl_backup.read_bytes())
    assert error_of(response) == (
        "The file asks for 6,144 key-derivation rounds in all; a restore in the web page allows at most 5,000. "
        "Restore it on the server with: python manage.py restore_keystore --tenant acme FILE"
    )
    assert not KeystoreEntry.objects.exists()
    out, _ = run("--tenant", "acme", str(openssl_backup))
    assert out == "acme: Imported 1 key.\n"
    assert Certificate.objects.select_related("entry").get().alias == "recording"


def test_a_wrong_password_is_one_line_and_restores_nothing(world, openssl_backup, monkeypatch):
    monkeypatch.setenv("PORTAL_KEYSTORE_PASSWORD", "not the password")
    message = fails("--tenant", "acme", str(openssl_backup))
    assert message == "Nothing was restored. The keystore password is wrong, or the file was altered."
    assert not KeystoreEntry.objects.exists() and not Certificate.objects.exists()


def test_a_missing_variable_is_one_line_and_nothing_is_asked(world, openssl_backup, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: pytest.fail("a named variable is not replaced by a prompt"))
    message = fails("--tenant", "acme", "--password-env", "ACME_BACKUP_PASSWORD", str(openssl_backup))
    assert message == "Set the backup password in the environment variable ACME_BACKUP_PASSWORD."
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    message = fails("--tenant", "acme", str(openssl_backup))
    assert message == "Set the backup password in the environment variable PORTAL_KEYSTORE_PASSWORD."
    assert not KeystoreEntry.objects.exists()


def test_a_password_file_that_cannot_be_read_is_one_line(world, openssl_backup, tmp_path):
    message = fails("--tenant", "acme", "--password-file", str(tmp_path / "nope.txt"), str(openssl_backup))
    assert message == f"Cannot read the password file {tmp_path / 'nope.txt'}: No such file or directory."


def test_a_terminal_is_asked_for_the_password_when_no_variable_holds_it(world, openssl_backup, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: BACKUP_PASSWORD)
    out, _ = run("--tenant", "acme", str(openssl_backup))
    assert out == "acme: Imported 1 key.\n"


def test_files_and_tenants_that_cannot_be_used(world, tmp_path, password_in_the_environment, monkeypatch):
    assert fails("--tenant", "nope", str(tmp_path)) == "No tenant with the identifier 'nope'."
    assert fails("--tenant", "acme", str(tmp_path / "missing.p12")) == (
        f"Cannot read {tmp_path / 'missing.p12'}: No such file or directory."
    )
    large = tmp_path / "large.p12"
    large.write_bytes(b"\x30" * 2048)
    monkeypatch.setattr("certificates.management.commands.restore_keystore.MAX_BACKUP_BYTES", 1024)
    assert fails("--tenant", "acme", str(large)) == f"{large} is larger than 1 KB; a keystore backup is far smaller."
