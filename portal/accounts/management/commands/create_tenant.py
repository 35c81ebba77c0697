from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from portal.accounts.models import Tenant
from portal.audit.log import COMMAND, record


class Command(BaseCommand):
    help = "Create a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="short identifier used in URLs, e.g. acme")
        parser.add_argument("--name", required=True, help="display name")

    def handle(self, *args: Any, slug: str, name: str, **options: Any) -> None:
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"Tenant '{slug}' already exists.")
        tenant = Tenant(slug=slug, name=name.strip())
        try:
            tenant.full_clean()
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        with transaction.atomic():
            tenant.save()
            record("tenant-created", by=COMMAND, tenant=tenant, obj=tenant, details={"via": "command line"})
        self.stdout.write(f"Created tenant '{slug}' ({tenant.name}).")
