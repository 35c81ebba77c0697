"""The key drill for cron, beside notify_expiring: prove that every key still plays recordings back."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from portal.accounts.models import Tenant
from portal.audit.log import COMMAND
from portal.jobs.links import job_url
from portal.jobs.runner import start
from recordings.drill import claim_drill, prove_keys
from recordings.jobs import VERIFY_KEYS

DEFAULT_ONCE_WITHIN_MINUTES = 30


class Command(BaseCommand):
    help = (
        "Prove every keystore entry, active and archived: encrypt a random challenge to its certificate as the "
        "recording platform encrypts a recording, and decrypt it the way recordings are decrypted. Prints one line "
        "per key and exits 1 if any key fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="only this tenant (its identifier, the slug); all tenants by default")
        parser.add_argument(
            "--once-within",
            type=int,
            default=DEFAULT_ONCE_WITHIN_MINUTES,
            metavar="MINUTES",
            help="skip a tenant whose drill another run (on this node or another) started less than this many minutes "
            f"ago, so the same cron line can run on every node (default {DEFAULT_ONCE_WITHIN_MINUTES}; 0 proves "
            "every tenant now)",
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="queue a job over every tenant for the workers (run_worker) and print its page; support users see "
            "its results there",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["background"]:
            if options["tenant"]:
                raise CommandError("--background verifies every tenant; leave out --tenant.")
            job = start(VERIFY_KEYS, tenant=None, by=COMMAND)
            self.stdout.write(f"Queued job {job.id}: see {job_url(job)} (run_worker runs it).")
            return
        tenants = Tenant.objects.order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant with the identifier '{options['tenant']}'.")
        if options["once_within"] < 0:
            raise CommandError("--once-within is a number of minutes, 0 or more.")
        within, now = timedelta(minutes=options["once_within"]), timezone.now()
        checked = failed = 0
        for tenant in tenants:
            started = claim_drill(tenant, now, within) if within else None
            if started is not None:
                self.stdout.write(
                    f"{tenant.slug}: skipped, another run started proving its keys at {started:%Y-%m-%d %H:%M:%S} UTC "
                    "(--once-within 0 proves them again now)"
                )
                continue
            for proof in prove_keys(tenant, by=COMMAND):
                checked += 1
                if proof.ok:
                    self.stdout.write(f"{tenant.slug} {proof.alias}: OK")
                else:
                    failed += 1
                    self.stdout.write(f"{tenant.slug} {proof.alias}: FAILED: {proof.failure}")
        summary = f"Verified {checked} key{'' if checked == 1 else 's'}: {checked - failed} OK, {failed} failed."
        if failed:
            self.stderr.write(summary)
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(summary))
