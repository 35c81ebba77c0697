import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from portal.audit.models import AuditEntry, AuditHead
from portal.audit.verify import verify_chain


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
            help="the newest hash noted at an earlier check, kept outside the database: it must still be in the log",
        )

    def handle(self, *args: Any, chunk_size: int, expect_head: str | None, **options: Any) -> None:
        total = AuditHead.objects.filter(pk=1).values_list("count", flat=True).first() or 0
        # A progress bar only for a person at a terminal; cron and tests get the result lines alone.
        with tqdm(total=total, unit="entries", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
            report = verify_chain(chunk_size=max(1, chunk_size), progress=bar.update)
        if report.finding is not None:
            raise CommandError(
                f"Audit log tampered with: {report.finding.message}. "
                f"{report.checked} entr{'y' if report.checked == 1 else 'ies'} before it verified."
            )
        if expect_head and not _hash_in_log(expect_head.strip().lower()):
            raise CommandError(
                f"Audit log tampered with: no entry has the hash {expect_head}, noted at an earlier check; the log "
                "was rewritten from that point on."
            )
        entries = "entry" if report.checked == 1 else "entries"
        self.stdout.write(f"{report.checked} {entries} verified; the chain is intact. Newest hash: {report.last_hash}")


def _hash_in_log(value: str) -> bool:
    return AuditEntry.objects.filter(entry_hash=value).exists()
