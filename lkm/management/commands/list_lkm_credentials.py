"""List a tenant's Hawk credentials, active and revoked; never their keys."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from lkm.models import Credential
from portal.cli import tenant_by_slug
from portal.web.text import visible


class Command(BaseCommand):
    help = "List the tenant's Local Key Manager credentials: id, status, issued, label. Keys are never shown."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (its slug)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        listed = list(Credential.objects.of_tenant(tenant))
        if not listed:
            self.stdout.write(f"Tenant {tenant.slug} has no Local Key Manager credential.")
        for credential in listed:
            status = f"revoked {credential.revoked:%Y-%m-%d %H:%M}" if credential.revoked else "active"
            issued = f"{credential.created:%Y-%m-%d %H:%M}"
            self.stdout.write(f"{credential.id}\t{status}\tissued {issued}\t{visible(credential.label)}")
