from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from keystore.api import KeystoreError
from keystore.backup import BACKUP_PASSWORD_VARIABLE, backup_password_from_environment, export_keystore
from portal.accounts.models import Tenant
from portal.audit.log import COMMAND
from portal.cli import write_whole


class Command(BaseCommand):
    help = (
        "Write a tenant's keystore (every private key with its certificate, expired ones included) to one "
        f"password-protected PKCS#12 file, for offsite backups. The password comes from ${BACKUP_PASSWORD_VARIABLE}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--out", required=True, help="the file to write (mode 0600)")
        parser.add_argument(
            "--password-env",
            default=BACKUP_PASSWORD_VARIABLE,
            help=f"the environment variable holding the file's password (default {BACKUP_PASSWORD_VARIABLE})",
        )
        parser.add_argument("--overwrite", action="store_true", help="replace the file if it exists")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            password = backup_password_from_environment(options["password_env"])
        except ValueError as unset:
            raise CommandError(str(unset)) from None
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"There is no tenant '{options['tenant']}'.")
        out = Path(options["out"])
        if out.exists() and not options["overwrite"]:
            raise CommandError(f"{out} exists; choose another name or pass --overwrite.")
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")
        try:
            data, count = export_keystore(tenant, password, by=COMMAND, via="command")
        except ValueError as exc:  # the password is too short
            raise CommandError(str(exc)) from None
        except KeystoreError as exc:
            raise CommandError(f"The keystore of {tenant.slug} cannot be read: {exc}") from None
        try:
            write_whole(out, data)
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror}") from None
        self.stdout.write(f"Wrote {count} {'entry' if count == 1 else 'entries'} of {tenant.slug} to {out}.")
