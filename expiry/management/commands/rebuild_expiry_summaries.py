"""Count the certificates again and compare with the expiry summaries: each difference is a write that did not keep
them, which a recount mends."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from expiry import tallies


def _rows(n: int) -> str:
    return f"{n} summary row{'' if n == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Count every tenant's active certificates again, and all of them together, and make the expiry dashboards' "
        "summaries say so, listing each row that differed. Writes wait while it runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="only report the differences (exit status 1 when there are any); change nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            differences = tallies.rebuild()
            if options["check"]:
                transaction.set_rollback(True)
        for difference in differences:
            self.stdout.write(str(difference))
        if not differences:
            self.stdout.write(self.style.SUCCESS("The expiry summaries match the certificates."))
        elif options["check"]:
            raise CommandError(f"{_rows(len(differences))} {'differs' if len(differences) == 1 else 'differ'}.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Mended {_rows(len(differences))}."))
