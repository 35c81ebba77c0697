"""The master key inside a PKCS#11 token (SoftHSM2): created by init_master_key, never extractable, wrapping the
tenant keys the keystore's operations use, reached from forked workers, and named in one line when it is not there."""

import base64
import os
import threading
import uuid

import pkcs11
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from pkcs11 import Attribute, KeyType, ObjectClass

from keystore import api
from keystore.checks import check_master_keys
from keystore.masterkey import MasterKey, current_master_key
from keystore.models import KeystoreEntry, TenantKey
from keystore.sealing import KeystoreError, open_private_key, tenant_aad
from portal.audit.models import AuditEntry
from tests.keystore import subprocesses as sp
from tests.keystore.helpers import store
from tests.keystore.softhsm import KEY_LABEL, PIN, requires_softhsm
from tests.keystore.softhsm import token as token  # the fixture

pytestmark = requires_softhsm

TEST_KEY = base64.b64encode(b"T" * 32).decode()  # the test settings' master key
TEST_ID = MasterKey.from_text(TEST_KEY, "t").key_id


def numbers_of_all():
    return {e.alias: open_private_key(e).private_numbers() for e in KeystoreEntry.objects.select_related("tenant")}


def init(capsys=None) -> str:
    call_command("init_master_key")
    return capsys.readouterr().out if capsys else ""


def one_message(messages):
    [message] = messages
    assert "\n" not in message.msg and "Traceback" not in message.msg
    return message


def test_init_master_key_creates_a_key_the_token_never_gives_out(token, capsys):
    with override_settings(**token.settings()):
        created = init(capsys)
        key_id = current_master_key().key_id
        again = init(capsys)
    assert "Created the master key: PKCS#11 token 'portal' key 'master', a non-extractable AES-256 key" in created
    assert key_id in created
    assert f"The master key is there already: PKCS#11 token 'portal' key 'master' (master key {key_id})." in again
    with token.session() as session:
        [key] = session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: KEY_LABEL})
        assert key[Attribute.EXTRACTABLE] is False and key[Attribute.SENSITIVE] is True
        assert key[Attribute.NEVER_EXTRACTABLE] is True and key[Attribute.TOKEN] is True
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[Attribute.VALUE]
        wrapping = session.generate_key(KeyType.AES, 256, template={Attribute.WRAP: True})
        with pytest.raises(pkcs11.exceptions.KeyUnextractable):
            wrapping.wrap_key(key)


def test_private_keys_seal_and_open_under_the_token(world, token):
    with override_settings(**token.settings()):
        init()
        provider = current_master_key()
        entry, key, _ = store(world.acme, "a", 0)
        row = TenantKey.objects.get(tenant=world.acme)
        assert row.master_key_id == provider.key_id and len(row.master_key_id) == len(TEST_ID)
        assert bytes(row.wrapped_key)[0] == 2  # the token's format, not envelope.seal's
        opened = open_private_key(KeystoreEntry.objects.get(pk=entry.pk))
        assert opened.private_numbers() == key.private_numbers()
        # The wrapped data key is bound to its tenant: copied to another tenant's row it does not open.
        other = store(world.globex, "g", 1)[0]
        TenantKey.objects.filter(tenant=world.globex).update(wrapped_key=row.wrapped_key)
        with pytest.raises(KeystoreError, match="data key of tenant globex does not open"):
            open_private_key(KeystoreEntry.objects.get(pk=other.pk))
        assert api.master_key_health() == (True, "PKCS#11 token 'portal': ok")
    with override_settings(PORTAL_MASTER_KEY=TEST_KEY), pytest.raises(KeystoreError, match="not configured"):
        open_private_key(KeystoreEntry.objects.get(pk=entry.pk))


def test_another_key_under_the_same_label_is_recognised(world, token):
    with override_settings(**token.settings()):
        init()
        old_id = current_master_key().key_id
        store(world.acme, "a", 0)
    with token.session() as session:
        session.get_key(object_class=ObjectClass.SECRET_KEY, label=KEY_LABEL).destroy()
    with override_settings(**token.settings()):
        init()
        assert current_master_key().key_id != old_id
        message = one_message(check_master_keys())
    assert message.id == "keystore.E002" and f"1 with master key {old_id}" in message.msg


def test_rotation_from_a_file_key_to_the_token_and_back(world, token, capsys):
    store(world.acme, "a", 0)
    store(world.globex, "g", 1)
    before = numbers_of_all()
    to_token = override_settings(**token.settings(), PORTAL_PREVIOUS_MASTER_KEY=TEST_KEY)
    with to_token:
        init()
        token_id = current_master_key().key_id
        assert [m.id for m in check_master_keys()] == ["keystore.W001"]
        call_command("rotate_master_key", "--no-progress", "--batch-size", "1")
    assert "Re-wrapped 2; 0 were already under the current key." in capsys.readouterr().out
    assert set(TenantKey.objects.values_list("master_key_id", flat=True)) == {token_id}
    with override_settings(**token.settings()):  # the file key is gone: the token alone opens everything
        assert numbers_of_all() == before
        assert check_master_keys() == []

    back = override_settings(PORTAL_MASTER_KEY=TEST_KEY, **token.settings("PORTAL_PREVIOUS_MASTER_KEY"))
    with back:
        call_command("rotate_master_key", "--no-progress")
    assert set(TenantKey.objects.values_list("master_key_id", flat=True)) == {TEST_ID}
    with override_settings(PORTAL_MASTER_KEY=TEST_KEY):
        assert numbers_of_all() == before
    audits = AuditEntry.objects.filter(action="tenant-keys-rewrapped").order_by("pk")
    assert [(a.details["from"], a.details["to"]) for a in audits] == [
        ([TEST_ID], token_id),
        ([TEST_ID], token_id),
        ([token_id], TEST_ID),
    ]
    assert sorted(t for a in audits[:2] for t in a.details["tenants"]) == ["acme", "globex"]


def test_a_wrong_pin_is_one_line_and_keystore_operations_refuse(world, token):
    with override_settings(**token.settings()):
        init()
        entry = store(world.acme, "a", 0)[0]
    with override_settings(**token.settings(pin="0000-wrong")):
        message = one_message(check_master_keys())
        assert message.id == "keystore.E004"
        assert "PKCS#11 token 'portal': wrong PIN (PORTAL_MASTER_KEY_PKCS11_PIN)" in message.msg
        assert "0000-wrong" not in message.msg + message.hint and PIN not in message.msg
        with pytest.raises(KeystoreError, match="master key is not usable: PKCS#11 token 'portal': wrong PIN"):
            open_private_key(KeystoreEntry.objects.get(pk=entry.pk))
        with pytest.raises(KeystoreError, match="wrong PIN"):
            store(world.globex, "g", 1)
        ok, text = api.master_key_health()
        assert not ok and text.startswith("PKCS#11 token 'portal': wrong PIN") and "0000" not in text
        with pytest.raises(CommandError, match="^Master key: PKCS#11 token 'portal': wrong PIN"):
            call_command("rotate_master_key", "--no-progress")
    assert not TenantKey.objects.filter(tenant=world.globex).exists()  # nothing half-made


@pytest.mark.parametrize(
    "changes,expected",
    [
        (
            {"token_label": "elsewhere"},
            "PKCS#11 token 'elsewhere' (PORTAL_MASTER_KEY_PKCS11_TOKEN_LABEL) is not present",
        ),
        ({"module": "/nonexistent/libpkcs11.so"}, "PKCS#11 module /nonexistent/libpkcs11.so"),
        ({"key_label": "absent"}, "PKCS#11 token 'portal' has no key 'absent' (PORTAL_MASTER_KEY_PKCS11_KEY_LABEL)"),
    ],
    ids=["missing-token", "missing-module", "missing-key"],
)
def test_an_unreachable_token_is_named_in_one_line(world, token, changes, expected):
    with override_settings(**token.settings()):
        init()
        store(world.acme, "a", 0)
    with override_settings(**token.settings(**changes)):
        message = one_message(check_master_keys())
        ok, text = api.master_key_health()
    assert message.id == "keystore.E004" and expected in message.msg, message.msg
    assert "Stored tenant keys: 1 with master key" in message.msg
    assert not ok and expected in text


def test_a_token_and_a_file_key_at_once_is_an_error_naming_both(db, token):
    with override_settings(**{**token.settings(), "PORTAL_MASTER_KEY_FILE": "/etc/portal/master.key"}):
        message = one_message(check_master_keys())
    assert message.id == "keystore.E001"
    assert "more than one master key is configured: PORTAL_MASTER_KEY_FILE (file) and PORTAL_MASTER_KEY_PKCS11_" in (
        message.msg
    )


def test_incomplete_token_settings_name_the_missing_one(db, token):
    with override_settings(**token.settings(key_label="")):
        message = one_message(check_master_keys())
    assert message.id == "keystore.E001" and "set PORTAL_MASTER_KEY_PKCS11_KEY_LABEL" in message.msg


def test_the_pin_may_come_from_a_file(world, token, tmp_path):
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN + "\n")
    with override_settings(**token.settings(pin=""), PORTAL_MASTER_KEY_PKCS11_PIN_FILE=str(pin_file)):
        init()
        entry, key, _ = store(world.acme, "a", 0)
        assert open_private_key(KeystoreEntry.objects.get(pk=entry.pk)).private_numbers() == key.private_numbers()


def test_threads_and_forked_workers_share_the_token(token):
    """gunicorn forks workers after the application loaded; each worker reopens the module for itself."""
    with override_settings(**token.settings()):
        init()
        provider = current_master_key()
        aad = tenant_aad(uuid.uuid4())
        data_keys = [os.urandom(32) for _ in range(16)]
        wrapped: list[bytes] = [b""] * len(data_keys)

        def wrap(i: int) -> None:
            wrapped[i] = provider.wrap(data_keys[i], aad)

        threads = [threading.Thread(target=wrap, args=(i,)) for i in range(len(data_keys))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [provider.unwrap(blob, aad) for blob in wrapped] == data_keys

        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the worker: unwrap with the provider loaded by the parent, report, leave at once
            try:
                ok = all(current_master_key().unwrap(blob, aad) == key for blob, key in zip(wrapped, data_keys))
                os.write(write, b"ok" if ok else b"different")
            except BaseException as exc:
                os.write(write, repr(exc).encode()[:200])
            finally:
                os._exit(0)
        os.close(write)
        _, status = os.waitpid(child, 0)
        answer = os.read(read, 256)
        os.close(read)
        assert answer == b"ok" and status == 0
        assert provider.unwrap(wrapped[0], aad) == data_keys[0]  # the parent's session still works


def test_production_refuses_to_serve_with_a_wrong_pin(token, tmp_path):
    db = sp.migrated_database(tmp_path)
    env = sp.environment(db, "")
    env.update(token.settings(), SOFTHSM2_CONF=str(token.conf))
    created = sp.run(["manage.py", "init_master_key"], env)
    assert created.returncode == 0 and "Created the master key" in created.stdout, created.stderr
    assert sp.run(["-c", "import portal.wsgi"], env).returncode == 0
    env["PORTAL_MASTER_KEY_PKCS11_PIN"] = "0000-wrong"
    refused = sp.run(["-c", "import portal.wsgi"], env)
    assert refused.returncode == 4
    [line] = [line for line in refused.stderr.splitlines() if "keystore.E" in line]
    assert "(keystore.E004) The keystore master key cannot be reached: PKCS#11 token 'portal': wrong PIN" in line
    assert "Traceback" not in refused.stderr and "0000-wrong" not in refused.stderr
