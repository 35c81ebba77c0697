import argparse
import re
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from portal.audit.log import GENESIS_HASH
from portal.audit.models import AuditEntry, AuditHead
from portal.audit.verify import verify_chain

_HASH = re.compile(r"[0-9a-f]{64}")


def noted_hash(value: str) -> str:
    """An ``--expect-head`` value: a hash as this command prints it. Anything else is a mistyped argument, said as
    such, not a sign of tampering."""
    cleaned = value.strip().lower()
    if not _HASH.fullmatch(cleaned):
        raise argparse.ArgumentTypeError(
            f"malformed hash {value!r}: give the 64 hexadecimal characters printed as 'Newest hash' by an earlier check"
        )
    return cleaned


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain from the first entry to the last. Reports the first altered, inserted or "
        "deleted entry and exits with status 1; prints the number of entries and the newest hash when intact."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=2000, help="entries read per database round trip")
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            type=noted_hash,
            help="the newest hash noted at an earlier check, kept outside the database: it must still be in the log",
        )

    def handle(self, *args: Any, chunk_size: int, expect_head: str | None, **options: Any) -> None:
        if expect_head is not None:  # parsed already from the command line; not when called as call_command(...)
            try:
                expect_head = noted_hash(expect_head)
            except argparse.ArgumentTypeError as error:
                raise CommandError(f"argument --expect-head: {error}", returncode=2) from None
        total = AuditHead.objects.filter(pk=1).values_list("count", flat=True).first() or 0
        # A progress bar only for a person at a terminal; cron and tests get the result lines alone.
        with tqdm(total=total, unit="entries", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
            report = verify_chain(chunk_size=max(1, chunk_size), progress=bar.update)
        if report.finding is not None:
            raise CommandError(
                f"Audit log tampered with: {report.finding.message}. "
                f"{report.checked} entr{'y' if report.checked == 1 else 'ies'} before it verified."
            )
        if expect_head is not None and not _hash_in_log(expect_head):
            raise CommandError(
                f"Audit log tampered with: no entry has the hash {expect_head}, noted at an earlier check; the log "
                "was rewritten from that point on."
            )
        entries = "entry" if report.checked == 1 else "entries"
        self.stdout.write(f"{report.checked} {entries} verified; the chain is intact. Newest hash: {report.last_hash}")
        if report.version_1:
            self.stdout.write(
                f"{report.version_1} of them predate the hash covering tenant and user links (version 1): their "
                "links were checked against the tenant and user names their hash covers."
            )


def _hash_in_log(value: str) -> bool:
    # The hash noted for an empty log: every log starts from it, and an emptied one is caught above.
    return value == GENESIS_HASH or AuditEntry.objects.filter(entry_hash=value).exists()
