"""verify_audit against each kind of tampering, done the way someone with the database owner's rights would: raw
SQL past the application's guards, with the append-only trigger disabled on PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from portal.accounts.models import Role
from portal.audit.log import GENESIS_HASH, Actor, record
from portal.audit.models import AuditEntry, AuditHead
from portal.audit.verify import Finding, verify_chain
from tests.conftest import World, make_user

TABLE = AuditEntry._meta.db_table
HEAD_TABLE = AuditHead._meta.db_table
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")


@contextmanager
def tampering() -> Iterator:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's transaction holds deferred foreign-key checks, which ALTER TABLE will not run past.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in (TABLE, HEAD_TABLE):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield cursor
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in (TABLE, HEAD_TABLE):
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@pytest.fixture
def log(world: World) -> list[AuditEntry]:
    """Ten entries, ids in order, after whatever the world fixture recorded."""
    return [
        record(f"test-{i}", by=Actor(world.alice), tenant=world.acme if i % 2 else world.globex, details={"n": i})
        for i in range(10)
    ]


def verify() -> str:
    call_command("verify_audit", stdout=(out := _Capture()))
    return out.text


class _Capture:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def failure() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit")
    return str(caught.value)


def found() -> Finding:
    """What verification reports about the log; the tampering must not pass unnoticed."""
    finding = verify_chain().finding
    assert finding is not None, "the chain verified as intact"
    return finding


def forged(after: AuditEntry, *, pk: int, action: str = "forged", prev_hash: str | None = None) -> AuditEntry:
    """An entry with a correct hash of its own, linked (by default) to ``after``."""
    entry = AuditEntry(
        pk=pk,
        created=after.created + timedelta(microseconds=1),
        actor_username="mallory",
        tenant_slug="acme",
        action=action,
        details={},
        prev_hash=after.entry_hash if prev_hash is None else prev_hash,
    )
    entry.entry_hash = entry.compute_hash()
    return entry


def insert(entry: AuditEntry) -> None:
    # Inserting is what the application allows; the forgery is in the content.
    entry.save(force_insert=True)


def make_gap_before(cursor, entry: AuditEntry, width: int = 1000) -> None:
    cursor.execute(f"UPDATE {TABLE} SET id = id + %s WHERE id >= %s", [width, entry.pk])


def test_an_intact_log_verifies(log) -> None:
    total = AuditEntry.objects.count()
    assert verify() == f"{total} entries verified; the chain is intact. Newest hash: {log[-1].entry_hash}\n"


@pytest.mark.django_db(transaction=True, reset_sequences=True)  # no entry id handed out yet, as in a new database
def test_an_empty_log_verifies() -> None:
    AuditHead.objects.get_or_create(pk=1)  # made by a migration; tests before this one may have emptied the table
    assert verify().startswith("0 entries verified")


def test_reading_in_small_chunks_gives_the_same_result(log) -> None:
    report = verify_chain(chunk_size=3)
    assert report.ok and report.checked == AuditEntry.objects.count() and report.last_hash == log[-1].entry_hash


def test_an_altered_entry_is_named(log) -> None:
    with tampering() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["harmless", log[4].pk])
    message = failure()
    assert f"entry #{log[4].pk} (" in message and "was altered" in message
    assert found().entry_id == log[4].pk


def test_altered_details_are_caught(log) -> None:
    with tampering() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET actor_username = %s WHERE id = %s", ["bob", log[2].pk])
    assert f"entry #{log[2].pk}" in failure()


def test_an_entry_rewritten_with_a_new_hash_breaks_the_next_link(log) -> None:
    entry = AuditEntry.objects.get(pk=log[4].pk)
    entry.action = "harmless"
    with tampering() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET action = %s, entry_hash = %s WHERE id = %s",
            ["harmless", entry.compute_hash(), entry.pk],
        )
    finding = found()
    assert finding.kind == "deleted" and finding.entry_id == log[5].pk
    assert f"#{log[4].pk} was rewritten along with its hash" in failure()


def test_a_deleted_entry_is_found(log) -> None:
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [log[6].pk])
    finding = found()
    assert finding.kind == "deleted" and finding.entry_id == log[7].pk
    assert f"entries were deleted between #{log[5].pk} and entry #{log[7].pk}" in failure()


def test_the_first_entry_deleted_is_found(log) -> None:
    first, second = AuditEntry.objects.order_by("id")[:2]
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [first.pk])
    finding = found()
    assert finding.kind == "deleted" and finding.entry_id == second.pk
    assert "between the start of the log and" in finding.message


def test_several_deleted_entries_are_found(log) -> None:
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id IN (%s, %s, %s)", [log[2].pk, log[3].pk, log[4].pk])
    finding = found()
    assert finding.kind == "deleted" and finding.entry_id == log[5].pk


def test_an_inserted_entry_that_links_to_its_predecessor_is_found(log) -> None:
    with tampering() as cursor:
        make_gap_before(cursor, log[5])
    insert(fake := forged(log[4], pk=log[4].pk + 1))
    finding = found()
    assert finding.kind == "inserted" and finding.entry_id == fake.pk
    assert f"entry #{fake.pk} (" in failure() and "was inserted" in failure()


def test_an_inserted_entry_with_any_link_is_found(log) -> None:
    with tampering() as cursor:
        make_gap_before(cursor, log[5])
    insert(fake := forged(log[4], pk=log[4].pk + 1, prev_hash="f" * 64))
    finding = found()
    assert finding.kind == "inserted" and finding.entry_id == fake.pk


def test_an_entry_added_at_the_end_outside_the_application_is_found(log) -> None:
    insert(fake := forged(log[-1], pk=log[-1].pk + 5))
    finding = found()
    assert finding.kind == "inserted" and finding.entry_id == fake.pk
    assert "added after the last entry the log recorded" in failure()


def test_an_entry_with_a_bad_link_added_at_the_end_is_found(log) -> None:
    insert(fake := forged(log[-1], pk=log[-1].pk + 5, prev_hash=GENESIS_HASH))
    finding = found()
    assert finding.kind == "inserted" and finding.entry_id == fake.pk


def test_entries_cut_off_the_end_are_found(log) -> None:
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE id >= %s", [log[8].pk])
    finding = found()
    assert finding.kind == "truncated"
    assert f"2 entries were deleted from the end: the log stops at #{log[7].pk}" in failure()


def test_the_last_entry_rewritten_with_a_new_hash_is_found(log) -> None:
    entry = AuditEntry.objects.get(pk=log[-1].pk)
    entry.action = "harmless"
    with tampering() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET action = 'harmless', entry_hash = %s WHERE id = %s", [entry.compute_hash(), entry.pk]
        )
    finding = found()
    assert finding.kind == "altered" and finding.entry_id == log[-1].pk


def test_a_deleted_head_is_found(log) -> None:
    with tampering() as cursor:
        cursor.execute(f"DELETE FROM {HEAD_TABLE}")
    assert "the audit head (count and newest hash) was deleted" in failure()


def test_a_noted_head_must_still_be_in_the_log(log) -> None:
    noted = log[6].entry_hash
    call_command("verify_audit", expect_head=noted, stdout=_Capture())
    with tampering() as cursor:
        # Rewrite everything from entry 6 on, consistently, head included: only the noted hash can tell.
        previous = log[5].entry_hash
        for original in log[6:]:
            entry = AuditEntry.objects.get(pk=original.pk)
            entry.prev_hash = previous
            entry.action = "rewritten"
            entry.entry_hash = entry.compute_hash()
            cursor.execute(
                f"UPDATE {TABLE} SET action = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
                [entry.action, entry.prev_hash, entry.entry_hash, entry.pk],
            )
            previous = entry.entry_hash
        cursor.execute(f"UPDATE {HEAD_TABLE} SET last_hash = %s", [previous])
    assert verify_chain().ok  # consistent on its own
    with pytest.raises(CommandError, match=f"no entry has the hash {noted}"):
        call_command("verify_audit", expect_head=noted)


@on_postgresql
def test_the_database_refuses_updates_and_deletes(log) -> None:
    for statement in (f"UPDATE {TABLE} SET action = 'x' WHERE id = %s", f"DELETE FROM {TABLE} WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [log[3].pk])
    assert AuditEntry.objects.get(pk=log[3].pk).action == "test-3"


def test_deleting_a_user_keeps_their_entries_and_the_chain(world: World) -> None:
    leaver = make_user("leaver", Role.TENANT_ADMIN, world.acme)
    entry = record("test", by=Actor(leaver), tenant=world.acme)
    leaver.delete()
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert kept.actor is None and kept.actor_username == "leaver"
    assert verify_chain().ok
