"""No key material or password reaches the database (other than sealed), the logs, the audit trail, the HTML or a
debug error page, whatever flow put the keys there or took them out."""

import logging

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from keystore.backup import export_keystore, import_pkcs12
from portal.audit.log import COMMAND, Actor
from tests.conftest import PASSWORD
from tests.keystore.helpers import certificate, der, rsa_key, secret_forms, store_key_file

KEY_FILE_PASSWORD = "key file pass 4711"
BACKUP_PASSWORD = "backup pass 0815 xyz"
DOWNLOAD_PASSWORD = "download pass 2342 abc"
SECRETS = [KEY_FILE_PASSWORD, BACKUP_PASSWORD, DOWNLOAD_PASSWORD, PASSWORD]


def database_dump() -> bytes:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names come from the database itself
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes | bytearray):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


def find_leaks(haystack: bytes, keys) -> list[str]:
    found = []
    for index, key in enumerate(keys):
        for name, needle in secret_forms(key).items():
            if needle in haystack:
                found.append(f"key {index}: {name}")
    for secret in SECRETS:
        if secret.encode() in haystack:
            found.append(f"password {secret!r}")
    for marker in (b"PRIVATE KEY", b"ENCRYPTED PRIVATE"):
        if marker in haystack:
            found.append(marker.decode())
    return found


@pytest.fixture
def sql_logged():
    """Log every SQL statement with its parameters, as a DEBUG deployment would."""
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    yield
    connection.force_debug_cursor = previous


def test_flows_leave_no_key_material_anywhere(world, client_for, caplog, sql_logged, tmp_path, monkeypatch):
    for name in ("", "django", "django.db.backends", "keystore"):
        caplog.set_level(logging.DEBUG, logger=name)
    keys = [rsa_key(0), rsa_key(1), rsa_key(2)]
    html: list[bytes] = []

    # store: an encrypted key file, as the upload does
    encrypted_pem = keys[0].private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(KEY_FILE_PASSWORD.encode()),
    )
    store_key_file(
        world.acme, alias="acme-a", certificate_der=der(certificate(keys[0])), key_data=encrypted_pem,
        password=KEY_FILE_PASSWORD,
    )  # fmt: skip
    store_key_file(
        world.acme, alias="acme-b", certificate_der=der(certificate(keys[1], expired=True)),
        key_data=keys[1].private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ),
        password=None,
    )  # fmt: skip

    client = client_for(world.alice)
    home = reverse("keystore-home", args=["acme"])
    html.append(client.get(home).content)
    entry_id = client.get(home).context["rows"][0].id
    download = reverse("keystore-key-download", args=["acme", entry_id])
    html.append(client.get(download).content)

    # download, both formats, plus refused attempts that re-render the form
    assert client.post(download, {"your_password": PASSWORD, "key_format": "pkcs8"}).status_code == 200
    encrypted = {
        "your_password": PASSWORD,
        "key_format": "pkcs8-encrypted",
        "key_password": DOWNLOAD_PASSWORD,
        "key_password_confirm": DOWNLOAD_PASSWORD,
    }
    assert client.post(download, encrypted).status_code == 200
    html.append(client.post(download, {**encrypted, "your_password": "wrong " + PASSWORD}).content)
    html.append(client.post(download, {**encrypted, "key_password_confirm": DOWNLOAD_PASSWORD + "x"}).content)

    # backup through the page and the command, plus a refused attempt
    backup = reverse("keystore-backup", args=["acme"])
    form = {"your_password": PASSWORD, "backup_password": BACKUP_PASSWORD, "backup_password_confirm": BACKUP_PASSWORD}
    response = client.post(backup, form)
    assert response.status_code == 200
    html.append(client.post(backup, {**form, "backup_password_confirm": "nope"}).content)
    monkeypatch.setenv("PORTAL_KEYSTORE_PASSWORD", BACKUP_PASSWORD)
    from django.core.management import call_command

    call_command("export_keystore", "--tenant", "acme", "--out", str(tmp_path / "acme.p12"))

    # restore into globex, once more (all skipped), and once with a wrong password
    report = import_pkcs12(world.globex, response.content, BACKUP_PASSWORD, on_entry=lambda e: None, by=COMMAND)
    assert len(report.imported) == 2
    import_pkcs12(world.globex, response.content, BACKUP_PASSWORD, on_entry=lambda e: None, by=COMMAND)
    with pytest.raises(ValueError):
        import_pkcs12(world.globex, response.content, "wrong " + BACKUP_PASSWORD, on_entry=lambda e: None, by=COMMAND)
    html.append(client_for(world.bob).get(reverse("keystore-home", args=["globex"])).content)

    # a third key stored in the other tenant and backed up by its admin
    store_key_file(
        world.globex, alias="globex-c", certificate_der=der(certificate(keys[2])),
        key_data=keys[2].private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        password=None,
    )  # fmt: skip
    export_keystore(world.globex, BACKUP_PASSWORD, by=Actor(world.bob))

    assert "SELECT" in caplog.text  # the SQL really was logged, parameters included
    assert find_leaks(database_dump(), keys) == []
    assert find_leaks(caplog.text.encode(), keys) == []
    for page in html:
        assert find_leaks(page, keys) == []


def test_debug_error_page_hides_the_key_and_passwords(world, client_for, monkeypatch):
    from keystore import sealing

    key = rsa_key(0)
    store_key_file(
        world.acme, alias="acme-a", certificate_der=der(certificate(key)),
        key_data=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        password=None,
    )  # fmt: skip
    # Fail right after the key is decrypted, with the plaintext in the sensitive function's frame. ``int`` raises from
    # C, so no frame of the test's own holds the plaintext.
    monkeypatch.setattr("keystore.sealing.serialization.load_der_private_key", int)
    client = client_for(world.alice)
    client.raise_request_exception = False
    form = {"your_password": PASSWORD, "backup_password": BACKUP_PASSWORD, "backup_password_confirm": BACKUP_PASSWORD}
    with override_settings(DEBUG=True):
        response = client.post(reverse("keystore-backup", args=["acme"]), form)
    assert response.status_code == 500
    page = response.content
    assert b"open_private_key" in page and b"TypeError" in page  # it is the technical page, with frames
    assert b"********************" in page  # sensitive values are shown masked
    forms = secret_forms(key)
    leaked = [name for name, needle in forms.items() if needle in page]
    # The plaintext is bytes: look for its repr too, as the page would print it.
    plaintext_repr = repr(forms["pkcs8 der"])[2:80].encode()
    assert leaked == [] and plaintext_repr not in page
    assert BACKUP_PASSWORD.encode() not in page and PASSWORD.encode() not in page
    monkeypatch.undo()
    data_key = sealing.tenant_data_key(world.acme)
    assert data_key.hex().encode() not in page
    assert (
        repr(data_key)[2:30].encode() not in page and repr(data_key)[2:30].replace("'", "&#x27;").encode() not in page
    )
