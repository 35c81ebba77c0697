"""Check the audit log's hash chain: each entry's hash covers its content and the previous entry's hash, and the
``AuditHead`` row holds the count and the newest hash. Whoever changes rows behind the application's back (with the
database owner's rights) breaks the chain, and this names the first place where it breaks.

What it cannot see: someone who rewrites every entry from the change onwards *and* the head. Keep the head hash it
prints somewhere else (a ticket, a log server) to catch that too.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .log import GENESIS_HASH
from .models import AuditEntry, AuditHead

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

    expected = GENESIS_HASH  # the previous entry's hash, which this entry must name
    two_back = None  # the hash before that: an entry slipped in with a correct link shows up one entry later
    previous: AuditEntry | None = None
    checked = 0
    head_reached_at: int | None = None  # how many entries up to the one whose hash the head holds
    first_after_head: AuditEntry | None = None

    for entry in entries:
        checked += 1
        if progress is not None:
            progress(1)
        if entry.compute_hash() != entry.entry_hash:
            return Report(
                checked - 1,
                expected,
                Finding(ALTERED, entry.pk, f"{_describe(entry)} was altered: its content no longer matches its hash"),
            )
        if entry.prev_hash != expected:
            return Report(checked - 1, expected, _broken_link(entry, previous, expected, two_back, entries, head_hash))
        if head_reached_at is not None and first_after_head is None:
            first_after_head = entry
        if entry.entry_hash == head_hash and head_reached_at is None:
            head_reached_at = checked
        two_back, expected, previous = expected, entry.entry_hash, entry

    if head is None and checked:
        return Report(checked, expected, Finding(ALTERED, None, "the audit head (count and newest hash) was deleted"))
    return Report(checked, expected, _check_end(checked, expected, previous, head_count, head_hash, first_after_head))


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
