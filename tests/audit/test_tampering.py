"""What the hash chain covers since version 2 (the tenant and user links the audit pages filter on), how entries of
version 1 are still checked, and an emptied log: each done as someone with the database owner's rights would, past
the application's guards. Run on SQLite and PostgreSQL alike."""

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from portal.audit.log import GENESIS_HASH, Actor, record
from portal.audit.models import AuditEntry, AuditHead
from portal.audit.verify import verify_chain
from tests.audit.test_verify import HEAD_TABLE, TABLE, _Capture, failure, found, on_postgresql, tampering, verify
from tests.conftest import World


@pytest.fixture
def log(world: World) -> list[AuditEntry]:
    """Six entries, alternating between the two tenants, by alice and pat."""
    return [
        record(
            f"test-{i}",
            by=Actor(world.alice if i % 3 else world.pat),
            tenant=world.acme if i % 2 else world.globex,
            details={"n": i},
        )
        for i in range(6)
    ]


def tenant_trail(tenant) -> list[int]:
    """What the tenant's audit page lists: its entries by tenant link."""
    return list(AuditEntry.objects.filter(tenant=tenant).values_list("pk", flat=True))


def tenant_id(tenant) -> str:
    """The tenant's id as the database stores it in the entry's tenant column."""
    return AuditEntry._meta.get_field("tenant").get_db_prep_value(tenant.pk, connection)


def update(entry: AuditEntry, column: str, value) -> None:
    with tampering() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, entry.pk])


@pytest.mark.parametrize("moved_to", ["nothing", "the other tenant"])
def test_an_entry_moved_out_of_its_tenants_trail_is_caught(world: World, log, moved_to) -> None:
    hidden = log[1]  # an acme entry
    update(hidden, "tenant_id", None if moved_to == "nothing" else tenant_id(world.globex))
    assert hidden.pk not in tenant_trail(world.acme)  # gone from acme's page ...
    message = failure()  # ... but not unnoticed
    assert f"entry #{hidden.pk} (" in message and "was altered" in message
    assert found().entry_id == hidden.pk


def test_an_entry_moved_into_a_tenants_trail_is_caught(world: World, log) -> None:
    unrelated = record("sign-in", by=Actor(world.bob))  # tied to no tenant
    update(unrelated, "tenant_id", tenant_id(world.acme))
    assert found().entry_id == unrelated.pk


@pytest.mark.parametrize("link", ["another user", "nothing, while the user exists"])
def test_a_changed_user_link_is_caught(world: World, log, link) -> None:
    update(log[2], "actor_id", world.bob.pk if link == "another user" else None)
    finding = found()
    assert finding.kind == "altered" and finding.entry_id == log[2].pk
    assert "user link" in finding.message


@pytest.mark.parametrize(
    "column,value",
    [
        ("action", "harmless"),
        ("details", '{"n": 99}'),
        ("created", timezone.now() - timedelta(days=400)),
        ("object_repr", "something else"),
        ("recorded_actor_id", 1),
    ],
)
def test_any_other_changed_column_is_caught(log, column, value) -> None:
    update(log[3], column, value)
    assert found().entry_id == log[3].pk
    assert f"entry #{log[3].pk} (" in failure()


@pytest.mark.parametrize("which", ["middle", "last"])
def test_a_deleted_entry_is_caught(log, which) -> None:
    gone = log[3] if which == "middle" else log[-1]
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [gone.pk])
    finding = found()
    assert finding.kind == ("deleted" if which == "middle" else "truncated")
    assert "Audit log tampered with" in failure()


@pytest.mark.parametrize("head", ["kept", "deleted too"])
def test_an_emptied_log_is_not_intact(log, head) -> None:
    with tampering() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {TABLE}" + (f", {HEAD_TABLE}" if head == "deleted too" else ""))
        else:
            cursor.execute(f"DELETE FROM {TABLE}")
            if head == "deleted too":
                cursor.execute(f"DELETE FROM {HEAD_TABLE}")
    assert not AuditEntry.objects.exists()
    message = failure()
    assert message.startswith("Audit log tampered with: ")
    if head == "kept":
        assert f"the log is empty, but {len(log)} entries were recorded" in message
    else:
        assert f"entry ids up to {log[-1].pk} were handed out" in message


def test_the_noted_head_of_an_empty_log_still_verifies_later(log) -> None:
    call_command("verify_audit", expect_head=GENESIS_HASH, stdout=_Capture())


@pytest.mark.parametrize("value", ["not-a-hash", "abc123", "g" * 64, "0" * 63])
def test_a_malformed_expected_head_is_a_bad_argument_not_tampering(log, value) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit", expect_head=value)
    assert "malformed hash" in str(caught.value) and "tampered" not in str(caught.value)
    assert caught.value.returncode == 2


def test_a_malformed_expected_head_on_the_command_line_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_audit", "--expect-head", "deadbeef"],
        cwd=Path(__file__).resolve().parents[2],
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "argument --expect-head: malformed hash 'deadbeef'" in result.stderr
    assert "tampered" not in result.stderr and "Traceback" not in result.stderr


# --- Entries hashed before version 2 ----------------------------------------------------------------------------------


def append_version_1(world: World, action: str, *, tenant=None) -> AuditEntry:
    """An entry as the application wrote them before hash version 2: links set, but outside the hash."""
    head = AuditHead.objects.get(pk=1)
    entry = AuditEntry(
        created=timezone.now(),
        actor=world.alice,
        actor_username="alice",
        tenant=tenant,
        tenant_slug=tenant.slug if tenant else "",
        action=action,
        hash_version=1,
        prev_hash=head.last_hash,
    )
    entry.entry_hash = entry.compute_hash()
    entry.save()
    with tampering() as cursor:  # what record() did then: the head follows the chain
        cursor.execute(f"UPDATE {HEAD_TABLE} SET last_hash = %s, count = count + 1", [entry.entry_hash])
    return entry


@pytest.fixture
def mixed_log(world: World) -> list[AuditEntry]:
    AuditHead.objects.get_or_create(pk=1)
    old = [append_version_1(world, f"old-{i}", tenant=world.acme if i % 2 else None) for i in range(4)]
    new = [record(f"new-{i}", by=Actor(world.alice), tenant=world.acme) for i in range(2)]
    return old + new


def test_entries_of_both_versions_verify_and_the_old_ones_are_named(mixed_log) -> None:
    lines = verify().splitlines()
    assert lines[0].startswith(f"{len(mixed_log)} entries verified; the chain is intact.")
    assert lines[1].startswith("4 of them predate the hash covering tenant and user links (version 1)")
    assert [entry.hash_version for entry in AuditEntry.objects.order_by("id")] == [1, 1, 1, 1, 2, 2]


@pytest.mark.parametrize("moved_to", ["nothing", "the other tenant"])
def test_an_old_entry_moved_out_of_its_tenant_is_caught_by_its_slug(world: World, mixed_log, moved_to) -> None:
    old = mixed_log[1]  # acme, version 1
    update(old, "tenant_id", None if moved_to == "nothing" else tenant_id(world.globex))
    finding = found()
    assert finding.entry_id == old.pk and "tenant" in finding.message


def test_an_old_entry_given_another_user_is_caught_by_its_username(world: World, mixed_log) -> None:
    update(mixed_log[0], "actor_id", world.bob.pk)
    assert found().entry_id == mixed_log[0].pk


def test_a_new_entry_passed_off_as_old_is_caught(world: World, mixed_log) -> None:
    """Marking a version 2 entry as version 1 (whose hash would not cover its tenant) does not pass."""
    newest = mixed_log[-1]
    update(newest, "hash_version", 1)
    assert found().entry_id == newest.pk
    # Even with its hash made again the old way: an old entry after new ones is out of place.
    entry = AuditEntry.objects.get(pk=newest.pk)
    update(newest, "entry_hash", entry.compute_hash())
    finding = found()
    assert finding.entry_id == newest.pk and "after entries of version 2" in finding.message


# --- What PostgreSQL refuses itself -----------------------------------------------------------------------------------


@on_postgresql
@pytest.mark.parametrize("table", [TABLE, HEAD_TABLE])
def test_the_database_refuses_truncate_without_the_test_setting(log, table) -> None:
    with pytest.raises(DatabaseError, match="TRUNCATE"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL portal.audit_allow_truncate = off")
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert AuditEntry.objects.count() == len(log) and AuditHead.objects.get().count == len(log)


@on_postgresql
@pytest.mark.parametrize(
    "statement",
    [f"DELETE FROM {HEAD_TABLE}", f"UPDATE {HEAD_TABLE} SET count = 0", f"UPDATE {HEAD_TABLE} SET last_hash = 'x'"],
)
def test_the_database_refuses_to_lower_or_delete_the_head(log, statement) -> None:
    with pytest.raises(DatabaseError, match="only counts appends"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    head = AuditHead.objects.get()
    assert head.count == len(log) and head.last_hash == log[-1].entry_hash
    assert verify_chain().ok
