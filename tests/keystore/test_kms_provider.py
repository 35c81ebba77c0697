"""The master key in AWS KMS (moto's in-process KMS): tenant keys wrapped by KMS under an encryption context, a
rotation from a file key to KMS and back, and a key that is disabled, unknown or unreachable named in one line."""

import base64
import hashlib

import pytest
from django.core.management import call_command
from django.test import override_settings

from keystore import api, envelope
from keystore.checks import check_master_keys
from keystore.masterkey import MasterKey, current_master_key
from keystore.models import KeystoreEntry, TenantKey
from keystore.sealing import KeystoreError, open_private_key, tenant_aad
from portal.audit.models import AuditEntry
from tests.keystore.helpers import store
from tests.keystore.moto_kms import ALIAS, kms_settings
from tests.keystore.moto_kms import kms as kms  # the fixture

TEST_KEY = base64.b64encode(b"T" * 32).decode()  # the test settings' master key
TEST_ID = MasterKey.from_text(TEST_KEY, "t").key_id


def numbers_of_all():
    return {e.alias: open_private_key(e).private_numbers() for e in KeystoreEntry.objects.select_related("tenant")}


def one_message(messages):
    [message] = messages
    assert "\n" not in message.msg and "Traceback" not in message.msg
    return message


def test_tenant_keys_are_wrapped_by_kms_and_private_keys_open(world, kms, capsys):
    key_id = hashlib.sha256(b"aws-kms:" + kms.arn.encode()).hexdigest()[:16]
    with override_settings(**kms_settings()):
        provider = current_master_key()
        assert provider.key_id == key_id and provider.describe() == f"AWS KMS key {kms.arn}"
        call_command("init_master_key")
        assert f"The master key is AWS KMS key {kms.arn} (master key {key_id})" in capsys.readouterr().out
        entry, key, _ = store(world.acme, "a", 0)
        row = TenantKey.objects.get(tenant=world.acme)
        assert row.master_key_id == key_id and bytes(row.wrapped_key)[0] == 3
        assert open_private_key(KeystoreEntry.objects.get(pk=entry.pk)).private_numbers() == key.private_numbers()
        assert api.master_key_health() == (True, "AWS KMS: ok")
        assert check_master_keys() == []
    with override_settings(**kms_settings(key=kms.arn)):  # the same key named by its ARN: the same identifier
        assert current_master_key().key_id == key_id


def test_a_wrapped_key_does_not_open_under_another_encryption_context(world, kms):
    with override_settings(**kms_settings()):
        provider = current_master_key()
        data_key = envelope.new_key()
        wrapped = provider.wrap(data_key, tenant_aad(world.acme.pk))
        assert provider.unwrap(wrapped, tenant_aad(world.acme.pk)) == data_key
        with pytest.raises(envelope.TamperedError):
            provider.unwrap(wrapped, tenant_aad(world.globex.pk))
        # Through the keystore: the acme data key copied to globex's row is refused, naming the tenant.
        store(world.acme, "a", 0)
        other = store(world.globex, "g", 1)[0]
        acme_row = TenantKey.objects.get(tenant=world.acme)
        TenantKey.objects.filter(tenant=world.globex).update(wrapped_key=acme_row.wrapped_key)
        with pytest.raises(KeystoreError, match="data key of tenant globex does not open"):
            open_private_key(KeystoreEntry.objects.get(pk=other.pk))


def test_rotation_from_a_file_key_to_kms_and_back(world, kms, capsys):
    store(world.acme, "a", 0)
    store(world.globex, "g", 1)
    before = numbers_of_all()
    with override_settings(**kms_settings(), PORTAL_PREVIOUS_MASTER_KEY=TEST_KEY):
        kms_id = current_master_key().key_id
        call_command("rotate_master_key", "--no-progress")
    assert "Re-wrapped 2; 0 were already under the current key." in capsys.readouterr().out
    assert set(TenantKey.objects.values_list("master_key_id", flat=True)) == {kms_id}
    with override_settings(**kms_settings()):  # the file key is gone: KMS alone opens everything
        assert numbers_of_all() == before
    with override_settings(PORTAL_MASTER_KEY=TEST_KEY, **kms_settings("PORTAL_PREVIOUS_MASTER_KEY")):
        call_command("rotate_master_key", "--no-progress")
    with override_settings(PORTAL_MASTER_KEY=TEST_KEY):
        assert numbers_of_all() == before
    audits = AuditEntry.objects.filter(action="tenant-keys-rewrapped").order_by("pk")
    assert [(a.details["from"], a.details["to"]) for a in audits] == [([TEST_ID], kms_id), ([kms_id], TEST_ID)]


def test_a_disabled_key_is_named_in_one_line_and_refused(world, kms):
    with override_settings(**kms_settings()):
        entry = store(world.acme, "a", 0)[0]
    kms.client.disable_key(KeyId=kms.key)
    with override_settings(**kms_settings()):
        message = one_message(check_master_keys())
        assert message.id == "keystore.E004"
        assert f"The keystore master key cannot be reached: AWS KMS key {kms.arn} is disabled." in message.msg
        with pytest.raises(KeystoreError, match="is disabled"):
            open_private_key(KeystoreEntry.objects.get(pk=entry.pk))
        ok, text = api.master_key_health()
    assert not ok and text == f"AWS KMS key {kms.arn} is disabled"


def test_an_unknown_key_is_named_in_one_line(db, kms):
    with override_settings(**kms_settings(key="alias/nobody")):
        message = one_message(check_master_keys())
    assert message.id == "keystore.E004" and "AWS KMS key alias/nobody: not found" in message.msg


def test_an_unreachable_endpoint_fails_fast_with_one_line(db, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    endpoint = "http://127.0.0.1:9"  # nothing listens on the discard port
    with override_settings(**kms_settings(PORTAL_MASTER_KEY_KMS_ENDPOINT_URL=endpoint)):
        message = one_message(check_master_keys())
    assert message.id == "keystore.E004"
    assert f"AWS KMS key {ALIAS}: the KMS endpoint {endpoint} is unreachable" in message.msg


def test_no_region_is_a_configuration_error(db, kms, monkeypatch):
    with override_settings(**kms_settings(PORTAL_MASTER_KEY_KMS_REGION="")):
        message = one_message(check_master_keys())
    assert message.id == "keystore.E001" and "set PORTAL_MASTER_KEY_KMS_REGION or AWS_REGION" in message.msg


def test_debug_logging_never_shows_the_data_keys_kms_wraps(world, kms, caplog, settings):
    import copy
    import logging.config

    config = copy.deepcopy(settings.LOGGING)
    config["root"]["level"] = "DEBUG"  # LOG_LEVEL=DEBUG, as someone chasing a fault would set it
    logging.config.dictConfig(config)
    caplog.set_level(logging.DEBUG)
    try:
        with override_settings(**kms_settings()):
            store(world.acme, "a", 0)
            entry = KeystoreEntry.objects.get(alias="a")
            open_private_key(entry)
        assert not [record for record in caplog.records if record.name.startswith(("botocore", "boto3"))]
        assert "Plaintext" not in caplog.text
    finally:
        logging.config.dictConfig(settings.LOGGING)


def test_a_healthy_probe_is_reused_for_a_few_seconds_and_a_failure_never(world, kms, monkeypatch):
    from keystore.masterkeys import health

    with override_settings(**kms_settings()):
        provider = current_master_key()
        probes = []
        real_probe = provider.probe

        def counted_probe() -> str:
            probes.append(1)
            return real_probe()

        monkeypatch.setattr(provider, "probe", counted_probe)
        assert api.master_key_health()[0] and api.master_key_health()[0]
        assert len(probes) == 1  # the balancer's next probe costs no KMS request
        kms.client.disable_key(KeyId=kms.key)
        monkeypatch.setattr(health, "_clock", lambda: 1e12)  # past the kept answer
        assert api.master_key_health()[0] is False
        assert api.master_key_health()[0] is False and len(probes) == 3
