"""Issue a Hawk credential for Genesys Cloud from a script, as the Local Key Manager page does."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from keystore.api import KeystoreError
from lkm.credentials import issue_credential
from portal.audit.log import COMMAND
from portal.cli import tenant_by_slug
from portal.web.text import has_invisible


class Command(BaseCommand):
    help = (
        "Issue a Hawk credential with which Genesys Cloud reaches the tenant's Local Key Manager. Prints "
        '{"id": ..., "authKey": ..., "algorithm": "sha256"} once: the auth key is kept only sealed and cannot be '
        "shown again. Genesys Cloud takes the id as apiId and the authKey as apiKey."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (its slug)")
        parser.add_argument("--label", default="", help="what the credential is for, e.g. 'Genesys Cloud production'")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        label = options["label"].strip()
        if len(label) > 100 or has_invisible(label):
            raise CommandError("The label must be at most 100 characters, without control characters.")
        try:
            issued = issue_credential(tenant, by=COMMAND, label=label)
        except KeystoreError as error:
            raise CommandError(f"No credential was issued: {error}.") from None
        self.stdout.write(json.dumps(issued.as_json()))
