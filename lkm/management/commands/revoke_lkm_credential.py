"""Revoke a Hawk credential: requests signed with it are refused from now on, on every node."""

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lkm.credentials import CredentialRevoked, revoke_credential
from lkm.models import Credential
from portal.audit.log import COMMAND
from portal.cli import tenant_by_slug


class Command(BaseCommand):
    help = "Revoke one of the tenant's Local Key Manager credentials. It stays listed, as revoked."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (its slug)")
        parser.add_argument("credential", help="the credential's id (Genesys Cloud's apiId)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        try:
            pk = uuid.UUID(options["credential"])
        except ValueError:
            raise CommandError(f"'{options['credential']}' is not a credential id.") from None
        credential = Credential.objects.of_tenant(tenant).filter(pk=pk).first()
        if credential is None:
            raise CommandError(f"Tenant {tenant.slug} has no credential {pk}.")
        try:
            revoke_credential(credential, by=COMMAND)
        except CredentialRevoked as already:
            raise CommandError(str(already)) from None
        self.stdout.write(f"Revoked credential {pk}: requests signed with it are refused.")
