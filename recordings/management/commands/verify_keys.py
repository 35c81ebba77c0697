"""The key drill for cron, beside notify_expiring: prove that every key still plays recordings back."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.accounts.models import Tenant
from portal.audit.log import COMMAND
from recordings.drill import prove_keys


class Command(BaseCommand):
    help = (
        "Prove every keystore entry, active and archived: encrypt a random challenge to its certificate as the "
        "recording platform encrypts a recording, and decrypt it the way recordings are decrypted. Prints one line "
        "per key and exits 1 if any key fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", help="only this tenant (its identifier, the slug); all tenants by default")

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.order_by("slug")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant with the identifier '{options['tenant']}'.")
        checked = failed = 0
        for tenant in tenants:
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
