"""Master-key rotation: every tenant key re-wrapped under the new key, one transaction each, resumable after a kill,
and afterwards the old key is not needed."""

import base64
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from keystore.masterkey import MasterKey, MasterKeyUnavailable, current_master_key, forget_master_keys
from keystore.models import KeystoreEntry, TenantKey
from keystore.rotation import pending_tenant_keys, rotate
from keystore.sealing import open_private_key
from portal.accounts.models import Tenant
from portal.audit.models import AuditEntry
from tests.keystore import subprocesses as sp
from tests.keystore.helpers import store
from tests.keystore.moto_kms import kms as kms  # the fixture
from tests.keystore.moto_kms import kms_settings
from tests.keystore.softhsm import make_token, requires_softhsm
from tests.keystore.softhsm import token as token  # the fixture

TEST_KEY = base64.b64encode(b"T" * 32).decode()  # the test settings' master key
NEW_KEY = base64.b64encode(b"N" * 32).decode()
STRAY_KEY = base64.b64encode(b"S" * 32).decode()
NEW_ID = MasterKey.from_text(NEW_KEY, "t").key_id


def numbers_of_all():
    return {e.alias: open_private_key(e).private_numbers() for e in KeystoreEntry.objects.select_related("tenant")}


def test_rotation_rewraps_every_tenant_key_and_the_old_key_is_no_longer_needed(world, capsys):
    store(world.acme, "a", 0)
    store(world.globex, "g", 1)
    before = numbers_of_all()
    with override_settings(PORTAL_MASTER_KEY=NEW_KEY, PORTAL_PREVIOUS_MASTER_KEY=TEST_KEY):
        call_command("rotate_master_key", "--no-progress")
    out = capsys.readouterr().out
    assert "Re-wrapped 2; 0 were already under the current key." in out
    assert "is no longer needed: unset PORTAL_PREVIOUS_MASTER_KEY" in out
    assert set(TenantKey.objects.values_list("master_key_id", flat=True)) == {NEW_ID}
    assert all(TenantKey.objects.values_list("rewrapped", flat=True))
    with override_settings(PORTAL_MASTER_KEY=NEW_KEY):  # the previous key is gone
        assert numbers_of_all() == before
    audit = AuditEntry.objects.get(action="tenant-keys-rewrapped")
    assert sorted(audit.details["tenants"]) == ["acme", "globex"] and audit.details["to"] == NEW_ID
    assert audit.details["from"] == [MasterKey.from_text(TEST_KEY, "t").key_id]


def test_rotation_is_safe_to_run_again(world, capsys):
    store(world.acme, "a", 0)
    with override_settings(PORTAL_MASTER_KEY=NEW_KEY, PORTAL_PREVIOUS_MASTER_KEY=TEST_KEY):
        call_command("rotate_master_key", "--no-progress")
        wrapped = bytes(TenantKey.objects.get().wrapped_key)
        call_command("rotate_master_key", "--no-progress")
    assert f"All tenant keys are wrapped with the current master key {NEW_ID}." in capsys.readouterr().out
    assert bytes(TenantKey.objects.get().wrapped_key) == wrapped


def test_rotation_reports_keys_under_an_unknown_master_key_and_leaves_them(world):
    store(world.acme, "a", 0)
    with override_settings(PORTAL_MASTER_KEY=STRAY_KEY):
        store(world.globex, "g", 1)  # wrapped with a key that will not be configured
    stray_wrapped = bytes(TenantKey.objects.get(tenant=world.globex).wrapped_key)
    rotating = override_settings(PORTAL_MASTER_KEY=NEW_KEY, PORTAL_PREVIOUS_MASTER_KEY=TEST_KEY)
    with rotating, pytest.raises(CommandError, match="1 tenant keys could not be re-wrapped"):
        call_command("rotate_master_key", "--no-progress")
    assert TenantKey.objects.get(tenant=world.acme).master_key_id == NEW_ID
    assert bytes(TenantKey.objects.get(tenant=world.globex).wrapped_key) == stray_wrapped


def test_portal_keeps_working_halfway_through_a_rotation(world):
    store(world.acme, "a", 0)
    store(world.globex, "g", 1)
    before = numbers_of_all()
    with override_settings(PORTAL_MASTER_KEY=NEW_KEY, PORTAL_PREVIOUS_MASTER_KEY=TEST_KEY):
        rotate([TenantKey.objects.get(tenant=world.acme).pk])
        assert sorted(TenantKey.objects.values_list("master_key_id", flat=True)) == sorted(
            [NEW_ID, MasterKey.from_text(TEST_KEY, "t").key_id]
        )
        assert numbers_of_all() == before


def test_rotation_without_a_usable_master_key_fails_with_one_line(world):
    broken = override_settings(PORTAL_MASTER_KEY="not base64 at all!")
    with broken, pytest.raises(CommandError, match="Master key: PORTAL_MASTER_KEY is not base64 text."):
        call_command("rotate_master_key", "--no-progress")


def _rotated(db, key_id: str) -> int | None:
    try:
        with sqlite3.connect(db, timeout=0.2) as connection:
            return connection.execute(
                "SELECT count(*) FROM keystore_tenantkey WHERE master_key_id = ?", (key_id,)
            ).fetchone()[0]
    except sqlite3.OperationalError:  # the writer holds the lock for a moment
        return None


def test_rotation_killed_midway_resumes_and_loses_nothing(tmp_path):
    tenants, with_entries = 1500, 30
    db = sp.migrated_database(tmp_path)
    seeded = sp.run(["-c", sp.SEED, str(tenants), str(with_entries)], sp.environment(db, sp.OLD_KEY))
    assert seeded.returncode == 0, seeded.stderr
    old_id = seeded.stdout.strip()
    new_id = MasterKey.from_text(sp.NEW_KEY, "t").key_id

    rotation = subprocess.Popen(
        [sys.executable, "manage.py", "rotate_master_key", "--batch-size", "10"],
        env=sp.environment(db, sp.NEW_KEY, previous=sp.OLD_KEY),
        cwd=sp.REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and rotation.poll() is None:
        done = _rotated(db, new_id) or done
        if done >= 50:
            rotation.send_signal(signal.SIGKILL)  # no chance to clean up: as if the machine died
            break
        time.sleep(0.005)
    rotation.wait(timeout=30)
    assert rotation.returncode == -signal.SIGKILL, "the rotation finished before it could be killed"
    killed_at = _rotated(db, new_id)
    assert killed_at is not None, "the database is still locked after the kill"
    assert 50 <= killed_at < tenants and killed_at % 10 == 0  # whole batches only

    # Half-way: every row is under one key or the other, and the portal (both keys configured) opens every entry.
    with sqlite3.connect(db) as connection:
        ids = dict(connection.execute("SELECT master_key_id, count(*) FROM keystore_tenantkey GROUP BY 1"))
    assert set(ids) <= {old_id, new_id} and sum(ids.values()) == tenants
    halfway = sp.run(["-c", sp.VERIFY], sp.environment(db, sp.NEW_KEY, previous=sp.OLD_KEY))
    assert halfway.returncode == 0 and halfway.stdout.strip() == str(with_entries), halfway.stderr

    resumed = sp.manage(db, "rotate_master_key", current=sp.NEW_KEY, previous=sp.OLD_KEY)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Re-wrapping {tenants - killed_at} tenant keys" in resumed.stdout
    assert "100%" in resumed.stderr  # the progress bar ran to the end

    # Afterwards the old key is not needed: only the new one is configured, and every key still opens.
    final = sp.run(["-c", sp.VERIFY], sp.environment(db, sp.NEW_KEY))
    assert final.returncode == 0 and final.stdout.strip() == str(with_entries), final.stderr
    assert _rotated(db, new_id) == tenants
    again = sp.manage(db, "rotate_master_key", current=sp.NEW_KEY, previous=sp.OLD_KEY)
    assert again.returncode == 0 and "All tenant keys are wrapped with the current master key" in again.stdout


# Between providers -------------------------------------------------------------------------------------------------


@requires_softhsm
def test_rotation_from_kms_to_a_token(world, kms, token):
    store(world.acme, "a", 0)
    store(world.globex, "g", 1)
    before = numbers_of_all()
    with override_settings(**kms_settings(), PORTAL_PREVIOUS_MASTER_KEY=TEST_KEY):
        call_command("rotate_master_key", "--no-progress")
    with override_settings(**token.settings(), **kms_settings("PORTAL_PREVIOUS_MASTER_KEY")):
        call_command("init_master_key")
        token_id = current_master_key().key_id
        call_command("rotate_master_key", "--no-progress")
    assert set(TenantKey.objects.values_list("master_key_id", flat=True)) == {token_id}
    with override_settings(**token.settings()):  # neither the file key nor KMS is needed any more
        assert numbers_of_all() == before


@requires_softhsm
def test_a_token_gone_mid_rotation_stops_it_in_one_line_and_a_rerun_finishes(world, token, tmp_path, monkeypatch):
    for i, tenant in enumerate([world.acme, world.globex, *(Tenant.objects.create(slug=f"t{i}") for i in range(4))]):
        store(tenant, f"key-{i}", i % 3)
    before = numbers_of_all()
    rotating = override_settings(**token.settings(), PORTAL_PREVIOUS_MASTER_KEY=TEST_KEY)
    with rotating:
        call_command("init_master_key")
        token_id = current_master_key().key_id
        unplugged = make_token(tmp_path / "elsewhere", "elsewhere")  # a module that no longer sees the token
        steps = []

        def unplug_after_two_batches(n: int) -> None:
            steps.append(n)
            if len(steps) == 2:
                monkeypatch.setenv("SOFTHSM2_CONF", str(unplugged.conf))
                forget_master_keys()

        with pytest.raises(MasterKeyUnavailable) as stopped:
            rotate(pending_tenant_keys(current_master_key()), batch_size=2, on_step=unplug_after_two_batches)
        assert "PKCS#11 token 'portal'" in str(stopped.value) and "\n" not in str(stopped.value)
        assert TenantKey.objects.filter(master_key_id=token_id).count() == 4  # two whole batches, nothing between
        with pytest.raises(CommandError, match="^Master key: PKCS#11 token 'portal' .* is not present"):
            call_command("rotate_master_key", "--no-progress")
        monkeypatch.setenv("SOFTHSM2_CONF", str(token.conf))  # plugged in again
        forget_master_keys()
        call_command("rotate_master_key", "--no-progress")
    assert set(TenantKey.objects.values_list("master_key_id", flat=True)) == {token_id}
    with override_settings(**token.settings()):
        assert numbers_of_all() == before
