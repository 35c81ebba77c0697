"""Check the audit log's hash chain: each entry's hash covers its content and the previous entry's hash, and the
``AuditHead`` row holds the count and the newest hash. Whoever changes rows behind the application's back (with the
database owner's rights) breaks the chain, and this names the first place where it breaks.

Entries of hash version 1 (written before the hash covered the tenant and user links) cannot have those links in
their hash; their links are checked against the tenant slug and user name their hash does cover instead. Tenants and
users are never renamed, so a link that names another tenant or user was changed. What stays open for them: a
user link set to nothing looks like a deleted user.

An emptied log is not intact: the head keeps the count of entries ever appended (PostgreSQL refuses to lower it or
delete it), and if the head is gone too, the entry id counter still shows that ids were handed out.

What it cannot see: someone who rewrites every entry from the change onwards *and* the head (or wipes entries, head
and id counter). Keep the head hash it prints somewhere else (a ticket, a log server) and pass it to
``verify_audit --expect-head`` to catch that too.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from portal.accounts.models import Tenant

from .log import GENESIS_HASH
from .models import HASH_VERSION, AuditEntry, AuditHead

ALTERED = "altered"
INSERTED = "inserted"
DELETED = "deleted"
TRUNCATED = "truncated"

# The fields the hash covers, and the id that orders the chain: nothing else is loaded.
_FIELDS = (
    "id",
    "created",
    "actor_username",
    "tenant_slug",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "details",
    "ip",
    "tenant",
    "actor",
    "recorded_actor_id",
    "hash_version",
    "prev_hash",
    "entry_hash",
)


@dataclass(frozen=True)
class Finding:
    kind: str  # ALTERED, INSERTED, DELETED or TRUNCATED
    entry_id: int | None
    message: str


@dataclass(frozen=True)
class Report:
    checked: int  # entries read before the finding (all of them when intact)
    last_hash: str
    finding: Finding | None
    version_1: int = 0  # of those, entries hashed the first way (see the module's docstring)

    @property
    def ok(self) -> bool:
        return self.finding is None


def _describe(entry: AuditEntry) -> str:
    return f"entry #{entry.pk} ({entry.created:%Y-%m-%d %H:%M:%S} {entry.action})"


def verify_chain(*, chunk_size: int = 2000, progress: Callable[[int], None] | None = None) -> Report:
    """Walk every entry in id order, once, ``chunk_size`` rows at a time."""
    head = AuditHead.objects.filter(pk=1).first()
    head_count = head.count if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    entries: Iterator[AuditEntry] = AuditEntry.objects.order_by("id").only(*_FIELDS).iterator(chunk_size=chunk_size)
    links = _Links()

    expected = GENESIS_HASH  # the previous entry's hash, which this entry must name
    two_back = None  # the hash before that: an entry slipped in with a correct link shows up one entry later
    previous: AuditEntry | None = None
    checked = version_1 = newest_version = 0
    head_reached_at: int | None = None  # how many entries up to the one whose hash the head holds
    first_after_head: AuditEntry | None = None

    for entry in entries:
        checked += 1
        if progress is not None:
            progress(1)
        problem = _version_problem(entry, newest_version)
        if problem is None and entry.compute_hash() != entry.entry_hash:
            problem = "its content no longer matches its hash"
        if problem is None:
            problem = links.problem(entry)
        if problem is not None:
            finding = Finding(ALTERED, entry.pk, f"{_describe(entry)} was altered: {problem}")
            return Report(checked - 1, expected, finding)
        if entry.prev_hash != expected:
            return Report(checked - 1, expected, _broken_link(entry, previous, expected, two_back, entries, head_hash))
        if head_reached_at is not None and first_after_head is None:
            first_after_head = entry
        if entry.entry_hash == head_hash and head_reached_at is None:
            head_reached_at = checked
        two_back, expected, previous = expected, entry.entry_hash, entry
        newest_version = entry.hash_version
        version_1 += entry.hash_version == 1

    if head is None:
        # The head is made by a migration, before any entry: without it, it was deleted.
        if checked:
            finding = Finding(ALTERED, None, "the audit head (count and newest hash) was deleted")
            return Report(checked, expected, finding)
        handed_out = _highest_id_handed_out()
        if handed_out:
            message = (
                f"the log is empty and the audit head was deleted, but entry ids up to {handed_out} were handed out: "
                "the entries were deleted"
            )
            return Report(0, expected, Finding(DELETED, None, message))
    at_end = _check_end(checked, expected, previous, head_count, head_hash, first_after_head)
    return Report(checked, expected, at_end, version_1)


def _version_problem(entry: AuditEntry, newest_so_far: int) -> str | None:
    if entry.hash_version not in range(1, HASH_VERSION + 1):
        return f"its hash version {entry.hash_version} does not exist"
    if entry.hash_version < newest_so_far:
        return f"it is marked as hashed the version {entry.hash_version} way, after entries of version {newest_so_far}"
    return None


class _Links:
    """The tenant and user links of each entry, against what its hash covers. The tenants' slugs and the users'
    names are read once, when first needed."""

    def __init__(self) -> None:
        self._slugs: dict[Any, str] | None = None
        self._usernames: dict[Any, str] | None = None

    def _slug(self, tenant_id: Any) -> str | None:
        if self._slugs is None:
            self._slugs = dict(Tenant.objects.values_list("pk", "slug"))
        return self._slugs.get(tenant_id)

    def _username(self, user_id: Any) -> str | None:
        if self._usernames is None:
            self._usernames = dict(get_user_model().objects.values_list("pk", "username"))
        return self._usernames.get(user_id)

    def problem(self, entry: AuditEntry) -> str | None:
        if entry.hash_version >= 2:
            # Both links are in the hash; the user link alone may become empty, when the user is deleted.
            if entry.actor_id is not None and entry.actor_id != entry.recorded_actor_id:
                return "its user link was changed"
            removed = entry.actor_id is None and entry.recorded_actor_id is not None
            if removed and self._username(entry.recorded_actor_id) is not None:
                return "its user link was removed, though the user still exists"
            return None
        if entry.tenant_id is None and entry.tenant_slug:
            return f"its link to tenant {entry.tenant_slug} was removed"
        if entry.tenant_id is not None and self._slug(entry.tenant_id) != entry.tenant_slug:
            return f"its tenant link no longer points to the tenant it names ({entry.tenant_slug or 'none'})"
        if entry.actor_id is not None and self._username(entry.actor_id) != entry.actor_username:
            return f"its user link no longer points to the user it names ({entry.actor_username or 'none'})"
        return None


def _highest_id_handed_out() -> int:
    """The highest entry id the database has handed out, entries deleted since included; 0 when none was."""
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # AUTOINCREMENT tables keep their highest id here; deleting rows does not lower it.
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            return int(row[0]) if row else 0
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            if sequence is None:
                return 0
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 (the name PostgreSQL gave)
            last_value, is_called = cursor.fetchone()
            return int(last_value) if is_called else 0
    return 0


def _broken_link(
    entry: AuditEntry,
    previous: AuditEntry | None,
    expected: str,
    two_back: str | None,
    entries: Iterator[AuditEntry],
    head_hash: str,
) -> Finding:
    """``entry`` is intact but does not name the previous entry's hash: tell an insertion from a deletion."""
    after = f"#{previous.pk}" if previous else "the start of the log"
    if previous is not None and two_back is not None and entry.prev_hash == two_back:
        # The chain goes on from the entry before the previous one, as if the previous one were not there.
        return Finding(
            INSERTED,
            previous.pk,
            f"{_describe(previous)} was inserted: the entry after it (#{entry.pk}) links to the one before it",
        )
    following = next(entries, None)
    if following is not None and following.prev_hash == expected and following.compute_hash() == following.entry_hash:
        return Finding(
            INSERTED, entry.pk, f"{_describe(entry)} was inserted: the entry after it links to the one before it"
        )
    if following is None and expected == head_hash:
        return Finding(INSERTED, entry.pk, f"{_describe(entry)} was added after the last entry the log recorded")
    return Finding(
        DELETED,
        entry.pk,
        f"entries were deleted between {after} and {_describe(entry)}: it links to a hash no remaining entry has "
        f"(or {after} was rewritten along with its hash)",
    )


def _check_end(
    checked: int,
    last_hash: str,
    last: AuditEntry | None,
    head_count: int,
    head_hash: str,
    first_after_head: AuditEntry | None,
) -> Finding | None:
    """The chain is unbroken; compare its end with the head, which every append updates."""
    if last_hash == head_hash and checked == head_count:
        return None
    last_text = f"#{last.pk}" if last else "nothing"
    if first_after_head is not None:
        return Finding(
            INSERTED,
            first_after_head.pk,
            f"{_describe(first_after_head)} and any after it were added after the last entry the log recorded",
        )
    if checked == 0 and head_count:
        return Finding(
            TRUNCATED,
            None,
            f"the log is empty, but {head_count} entr{'y was' if head_count == 1 else 'ies were'} recorded: "
            "all of them were deleted",
        )
    if checked < head_count:
        missing = head_count - checked
        return Finding(
            TRUNCATED,
            None,
            f"{missing} entr{'y was' if missing == 1 else 'ies were'} deleted from the end: the log stops at "
            f"{last_text}, but {head_count} entries were recorded",
        )
    return Finding(
        ALTERED,
        last.pk if last else None,
        f"the last entry ({last_text}) does not end the chain the log recorded: it was rewritten with a new hash",
    )
