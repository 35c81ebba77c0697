"""Start-up checks name what is wrong with the master key; production (wsgi) refuses to serve; the export and
init commands behave as an operator expects."""

import base64
import os
import signal
import stat
import subprocess
import sys
import threading

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from keystore import api, pfx
from keystore.checks import check_master_keys
from keystore.masterkey import MasterKey
from portal.audit.models import AuditEntry
from tests.keystore import subprocesses as sp
from tests.keystore.helpers import store

TEST_KEY = base64.b64encode(b"T" * 32).decode()
TEST_ID = MasterKey.from_text(TEST_KEY, "t").key_id
OTHER_KEY = base64.b64encode(b"O" * 32).decode()
OTHER_ID = MasterKey.from_text(OTHER_KEY, "t").key_id


def ids_and_text(messages):
    return [m.id for m in messages], " ".join(f"{m.msg} {m.hint}" for m in messages)


def test_configured_key_matching_the_stored_keys_passes(world):
    store(world.acme, "a", 0)
    assert check_master_keys() == []


@pytest.mark.parametrize(
    "settings,expected",
    [
        ({"PORTAL_MASTER_KEY": "", "PORTAL_MASTER_KEY_FILE": ""}, "no master key: set PORTAL_MASTER_KEY"),
        ({"PORTAL_MASTER_KEY": "not base64!"}, "PORTAL_MASTER_KEY is not base64 text"),
        ({"PORTAL_MASTER_KEY": base64.b64encode(b"short").decode()}, "must be 32 bytes, base64-encoded; this one is 5"),
        ({"PORTAL_MASTER_KEY": "", "PORTAL_MASTER_KEY_FILE": "/nonexistent/master.key"}, "does not exist"),
        ({"PORTAL_MASTER_KEY": "", "PORTAL_MASTER_KEY_FILE": "/"}, "cannot be read"),
    ],
    ids=["missing", "not-base64", "wrong-length", "no-file", "unreadable-file"],
)
def test_missing_or_malformed_master_key_is_an_error_saying_which(world, settings, expected):
    store(world.acme, "a", 0)
    with override_settings(**settings):
        ids, text = ids_and_text(check_master_keys())
    assert ids == ["keystore.E001"]
    assert expected in text
    assert f"Stored tenant keys: 1 with master key {TEST_ID}" in text


def test_stored_keys_under_another_master_key_are_an_error_naming_the_ids(world):
    store(world.acme, "a", 0)
    store(world.globex, "g", 1)
    with override_settings(PORTAL_MASTER_KEY=OTHER_KEY):
        ids, text = ids_and_text(check_master_keys())
    assert ids == ["keystore.E002"]
    assert f"2 tenant keys are wrapped with a master key that is not configured: 2 with master key {TEST_ID}" in text
    assert f"The configured master key is {OTHER_ID}" in text
    assert "rotate_master_key" in text


def test_unfinished_rotation_is_a_warning(world):
    store(world.acme, "a", 0)
    with override_settings(PORTAL_MASTER_KEY=OTHER_KEY, PORTAL_PREVIOUS_MASTER_KEY=TEST_KEY):
        ids, text = ids_and_text(check_master_keys())
    assert (
        ids == ["keystore.W001"] and f"1 tenant keys are still wrapped with the previous master key {TEST_ID}" in text
    )


def test_previous_key_no_longer_used_is_a_warning_to_remove_it(world):
    store(world.acme, "a", 0)
    with override_settings(PORTAL_PREVIOUS_MASTER_KEY=OTHER_KEY):
        ids, text = ids_and_text(check_master_keys())
    assert ids == ["keystore.W002"] and "Unset PORTAL_PREVIOUS_MASTER_KEY" in text


def test_malformed_previous_key_is_an_error(world):
    with override_settings(PORTAL_PREVIOUS_MASTER_KEY="###"):
        ids, text = ids_and_text(check_master_keys())
    assert ids == ["keystore.E003"] and "PORTAL_PREVIOUS_MASTER_KEY is not base64 text" in text


def test_two_master_keys_at_once_are_an_error_naming_both(world, tmp_path):
    with override_settings(PORTAL_MASTER_KEY=TEST_KEY, PORTAL_MASTER_KEY_FILE=str(tmp_path / "master.key")):
        ids, text = ids_and_text(check_master_keys())
    assert ids == ["keystore.E001"]
    assert (
        "more than one master key is configured: PORTAL_MASTER_KEY (environment) and PORTAL_MASTER_KEY_FILE (file); "
        "set only one" in text
    )


def test_an_unreachable_previous_provider_is_its_own_error(world):
    store(world.acme, "a", 0)
    missing_module = {
        "PORTAL_PREVIOUS_MASTER_KEY_PKCS11_MODULE": "/nonexistent/libpkcs11.so",
        "PORTAL_PREVIOUS_MASTER_KEY_PKCS11_TOKEN_LABEL": "old",
        "PORTAL_PREVIOUS_MASTER_KEY_PKCS11_PIN": "1234",
        "PORTAL_PREVIOUS_MASTER_KEY_PKCS11_KEY_LABEL": "master",
    }
    with override_settings(**missing_module):
        [message] = check_master_keys()
    assert message.id == "keystore.E005" and "\n" not in message.msg
    assert "PKCS#11 module /nonexistent/libpkcs11.so (PORTAL_PREVIOUS_MASTER_KEY_PKCS11_MODULE) does not exist" in (
        message.msg
    )


def test_health_names_the_file_provider_and_what_failed(db, tmp_path):
    assert api.master_key_health() == (True, "master key from the environment: ok")
    key_file = tmp_path / "master.key"
    key_file.write_text(TEST_KEY)
    with override_settings(PORTAL_MASTER_KEY="", PORTAL_MASTER_KEY_FILE=str(key_file)):
        assert api.master_key_health() == (True, "master key file: ok")
    with override_settings(PORTAL_MASTER_KEY="", PORTAL_MASTER_KEY_FILE=str(tmp_path / "gone.key")):
        ok, text = api.master_key_health()
    assert not ok and text.startswith("the master key file") and "does not exist" in text
    assert TEST_KEY not in text


def test_check_and_migrate_work_on_an_empty_database(tmp_path):
    db = tmp_path / "empty.sqlite3"
    checked = sp.manage(db, "check")
    assert checked.returncode == 0, checked.stderr
    migrated = sp.manage(db, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr


def test_runserver_checks_refuse_a_wrong_master_key(tmp_path):
    db = sp.migrated_database(tmp_path)
    seeded = sp.run(["-c", sp.SEED, "3", "1"], sp.environment(db, sp.OLD_KEY))
    assert seeded.returncode == 0, seeded.stderr
    result = sp.manage(db, "check", current=sp.NEW_KEY)
    assert result.returncode != 0
    assert "keystore.E002" in result.stderr and seeded.stdout.strip() in result.stderr


def test_runserver_reports_a_failed_check_without_a_traceback(tmp_path):
    """runserver checks in a thread of its own (under the autoreloader), where a failure used to print a traceback."""
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "127.0.0.1:0"],
        cwd=sp.REPO,
        env=sp.environment(tmp_path / "portal.sqlite3", "bad key"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    give_up = threading.Timer(30, os.killpg, (server.pid, signal.SIGKILL))
    give_up.start()
    report = []
    assert server.stderr is not None
    try:
        for line in server.stderr:
            report.append(line)
            if line.startswith("System check identified"):  # the report's last line; runserver then waits for edits
                break
    finally:
        give_up.cancel()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    text = "".join(report)
    assert "(keystore.E001)" in text and "not base64" in text, text
    assert "Traceback" not in text


@pytest.mark.parametrize("key,ok", [("old", True), ("new", False), ("bad", False)])
def test_production_wsgi_refuses_to_serve_with_a_wrong_master_key(tmp_path, key, ok):
    db = sp.migrated_database(tmp_path)
    seeded = sp.run(["-c", sp.SEED, "2", "1"], sp.environment(db, sp.OLD_KEY))
    assert seeded.returncode == 0, seeded.stderr
    configured = {"old": sp.OLD_KEY, "new": sp.NEW_KEY, "bad": "bad key"}[key]
    result = sp.run(["-c", "import portal.wsgi"], sp.environment(db, configured))
    assert result.returncode == (0 if ok else 4), result.stderr  # 4: gunicorn stops instead of restarting workers
    if not ok:
        [line] = [line for line in result.stderr.splitlines() if "keystore.E" in line]
        assert line.startswith("Configuration error: Refusing to start: (keystore.E00")
        assert ("not configured" if key == "new" else "not base64") in line
        assert "Traceback" not in result.stderr


# export_keystore ----------------------------------------------------------------------------------------------------


def test_export_command_writes_a_private_file_and_audits(world, tmp_path, monkeypatch, capsys):
    store(world.acme, "a", 0)
    store(world.acme, "b", 1, expired=True)
    monkeypatch.setenv("PORTAL_KEYSTORE_PASSWORD", "scheduled backup 1")
    out = tmp_path / "acme.p12"
    call_command("export_keystore", "--tenant", "acme", "--out", str(out))
    assert "Wrote 2 entries of acme" in capsys.readouterr().out
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert sorted(k.alias for k in pfx.read_pfx(out.read_bytes(), "scheduled backup 1").keys) == ["a", "b"]
    audit = AuditEntry.objects.get(action="keystore-exported")
    assert audit.details == {"entries": 2, "format": "PKCS#12", "via": "command"} and audit.actor is None
    assert [p.name for p in tmp_path.iterdir()] == ["acme.p12"]  # no temporary file left


@pytest.mark.parametrize(
    "env,args,message",
    [
        ({}, ["--tenant", "acme"], "Set the backup password in the environment variable PORTAL_KEYSTORE_PASSWORD."),
        ({"PORTAL_KEYSTORE_PASSWORD": "short"}, ["--tenant", "acme"], "at least 12 characters"),
        ({"PORTAL_KEYSTORE_PASSWORD": "long enough pw"}, ["--tenant", "nobody"], "There is no tenant 'nobody'."),
        ({"BACKUP_PW": "long enough pw"}, ["--tenant", "acme", "--password-env", "BACKUP_PW"], None),
    ],
)
def test_export_command_errors_are_one_clear_line(world, tmp_path, monkeypatch, env, args, message):
    monkeypatch.delenv("PORTAL_KEYSTORE_PASSWORD", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "k.p12"
    if message is None:
        call_command("export_keystore", *args, "--out", str(out))
        assert out.exists()
        return
    with pytest.raises(CommandError, match=message):
        call_command("export_keystore", *args, "--out", str(out))
    assert not out.exists()


def test_export_command_does_not_overwrite_unless_told(world, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_KEYSTORE_PASSWORD", "scheduled backup 1")
    out = tmp_path / "k.p12"
    out.write_bytes(b"yesterday")
    with pytest.raises(CommandError, match="exists; choose another name or pass --overwrite"):
        call_command("export_keystore", "--tenant", "acme", "--out", str(out))
    assert out.read_bytes() == b"yesterday"
    call_command("export_keystore", "--tenant", "acme", "--out", str(out), "--overwrite")
    assert pfx.read_pfx(out.read_bytes(), "scheduled backup 1").keys == []


def test_export_command_exits_non_zero_from_the_shell(tmp_path):
    db = sp.migrated_database(tmp_path)
    env = sp.environment(db, sp.OLD_KEY)
    result = sp.run(["manage.py", "export_keystore", "--tenant", "x", "--out", str(tmp_path / "o.p12")], env)
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        == "CommandError: Set the backup password in the environment variable PORTAL_KEYSTORE_PASSWORD."
    )


# init_master_key ----------------------------------------------------------------------------------------------------


def test_init_master_key_creates_a_new_key_file_for_a_rotation(tmp_path, capsys):
    path = tmp_path / "next.key"
    call_command("init_master_key", "--path", str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = MasterKey.from_text(path.read_bytes(), "new")
    assert key.key_id in capsys.readouterr().out
    call_command("init_master_key", "--path", str(path))
    assert MasterKey.from_text(path.read_bytes(), "again") == key  # never overwritten


def test_init_master_key_runs_while_the_key_is_missing(tmp_path):
    path = tmp_path / "var" / "master.key"
    env = sp.environment(tmp_path / "db.sqlite3", "")  # empty: the test settings keep it empty, not their default
    env["PORTAL_MASTER_KEY_FILE"] = str(path)
    refused = sp.run(["manage.py", "check"], env)
    assert refused.returncode != 0 and "keystore.E001" in refused.stderr and "does not exist" in refused.stderr
    result = sp.run(["manage.py", "init_master_key"], env)
    assert result.returncode == 0, result.stderr
    assert path.exists()
