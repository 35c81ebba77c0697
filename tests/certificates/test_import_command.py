"""``manage.py import_certificate``: the same parser and checks as the upload panel, for bulk work."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certificates.management.commands.import_certificate import Command
from certificates.models import Certificate
from keystore.models import KeystoreEntry
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.factories import errors, post_upload


def files(tmp_path: Path, cert_data: bytes, key_data: bytes) -> tuple[str, str]:
    cert_path, key_path = tmp_path / "tenant.pem", tmp_path / "tenant.key"
    cert_path.write_bytes(cert_data)
    key_path.write_bytes(key_data)
    return str(cert_path), str(key_path)


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_certificate", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_prints_the_fields_and_saves(world, tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_KEY_PASSWORD", raising=False)
    cert, key = pki.make_self_signed()
    cert_path, key_path = files(tmp_path, pki.pem(cert), pki.key_pem_traditional(key))
    output = run("--tenant", "acme", cert_path, key_path, "--alias", "voice-2025")
    assert "Subject Name:  Genesys Recording" in output
    assert f"Serial Number: {cert.serial_number}" in output
    assert f"Subject DN:    {pki.SEED_SUBJECT_DN}" in output
    assert f"Issuer DN:     {pki.SEED_SUBJECT_DN}" in output
    assert "Key Details:   OpenSSL RSA private key, RSA 2048 bits" in output
    assert "Imported 'voice-2025' into tenant acme." in output
    saved = Certificate.objects.get()
    assert (saved.tenant, saved.alias, saved.uploaded_by) == (world.acme, "voice-2025", None)
    entry = AuditEntry.objects.get(action="certificate-imported")
    assert entry.details["alias"] == "voice-2025" and entry.actor is None


def test_encrypted_key_password_comes_from_the_environment(world, tmp_path, monkeypatch):
    cert, key = pki.make_self_signed()
    paths = files(tmp_path, pki.pem(cert), pki.key_pem_pkcs8_encrypted(key, "env-secret-99"))
    monkeypatch.delenv("PORTAL_KEY_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="Private Key Password: This key is encrypted"):
        run("--tenant", "acme", *paths)
    monkeypatch.setenv("PORTAL_KEY_PASSWORD", "env-secret-99")
    assert "Encrypted PKCS#8 private key, RSA 2048 bits" in run("--tenant", "acme", *paths)
    assert Certificate.objects.count() == 1


def test_bad_input_gives_the_upload_panels_message(world, client_for, tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_KEY_PASSWORD", raising=False)
    cert, _ = pki.make_self_signed()
    wrong_key = pki.key_pem_pkcs8(pki.make_key(2048, 7))
    for cert_data, key_data, field in (
        (pki.make_csr(), wrong_key, "certificate_file"),
        (pki.pem(cert), wrong_key, "key_file"),
    ):
        shown = errors(post_upload(client_for(world.alice), "acme", cert_data, key_data))[field]
        with pytest.raises(CommandError) as raised:
            run("--tenant", "acme", *files(tmp_path, cert_data, key_data))
        assert shown in str(raised.value)
    assert not KeystoreEntry.objects.exists()


def test_exit_status_is_non_zero_on_bad_input(world, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PORTAL_KEY_PASSWORD", raising=False)
    paths = files(tmp_path, b"just text", pki.key_pem_pkcs8(pki.make_key()))
    # run_from_argv closes every database connection when it ends; the test's transaction needs its connection.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "import_certificate", "--tenant", "acme", *paths])
    assert exited.value.code != 0
    assert "Certificate File: The file is not a certificate: it is neither PEM nor DER." in capsys.readouterr().err
    assert not Certificate.objects.exists()


def test_unknown_tenant_and_missing_file(world, tmp_path):
    cert, key = pki.make_self_signed()
    paths = files(tmp_path, pki.pem(cert), pki.key_pem_pkcs8(key))
    with pytest.raises(CommandError, match="No tenant with the identifier 'nope'"):
        run("--tenant", "nope", *paths)
    with pytest.raises(CommandError, match="Key File: cannot read"):
        run("--tenant", "acme", paths[0], str(tmp_path / "missing.key"))


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_that_never_ends_is_refused_at_the_size_limit(world, tmp_path, device, monkeypatch):
    """A device reports size 0 and never ends: reading stops at the limit plus one byte."""
    reads: list[int] = []
    real_open = Path.open

    def counting_open(self, *args, **kwargs):
        stream = real_open(self, *args, **kwargs)
        real_read = stream.read

        def counting_read(size: int = -1) -> bytes:
            reads.append(size)
            return real_read(size)

        stream.read = counting_read
        return stream

    monkeypatch.setattr(Path, "open", counting_open)
    cert, key = pki.make_self_signed()
    cert_path, _ = files(tmp_path, pki.pem(cert), pki.key_pem_pkcs8(key))
    with pytest.raises(CommandError, match="Key File: The key file is larger than 256 KB"):
        run("--tenant", "acme", cert_path, device)
    assert reads[-1] == 256 * 1024 + 1
    assert not KeystoreEntry.objects.exists()


def test_a_fifo_with_too_much_is_refused_and_a_directory_is_named(world, tmp_path):
    import os
    import threading

    cert, key = pki.make_self_signed()
    cert_path, _ = files(tmp_path, pki.pem(cert), pki.key_pem_pkcs8(key))
    fifo = tmp_path / "key.fifo"
    os.mkfifo(fifo)

    def writer() -> None:
        try:
            with fifo.open("wb") as sink:
                sink.write(b"-----BEGIN PRIVATE KEY-----\n" + b"A" * 400_000)
        except BrokenPipeError:
            pass  # the command stopped reading at its limit, as it should

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with pytest.raises(CommandError, match="Key File: The key file is larger than 256 KB"):
        run("--tenant", "acme", cert_path, str(fifo))
    with pytest.raises(CommandError, match=f"Certificate File: cannot read {tmp_path}"):
        run("--tenant", "acme", str(tmp_path), str(fifo))
