import getpass
import os
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from portal.accounts.models import Role, Tenant, User
from portal.audit.log import COMMAND, record

PASSWORD_ENV = "PORTAL_USER_PASSWORD"


class Command(BaseCommand):
    help = f"Create a portal user. With --noinput the password is read from ${PASSWORD_ENV}."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--tenant", action="append", default=[], metavar="SLUG", help="repeat for several")
        parser.add_argument("--email", default="")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args: Any, username: str, role: str, tenant: list[str], email: str, **opts: Any) -> None:
        if opts["interactive"] and not sys.stdin.isatty():
            # Checked first: a script or cron job without --noinput learns it at once, before anything is looked up.
            raise CommandError(
                f"No terminal to type the password at: run with --noinput and set {PASSWORD_ENV} to the password."
            )
        if User.objects.filter(username=username).exists():
            raise CommandError(f"User '{username}' already exists.")
        if role == Role.TENANT_ADMIN and len(tenant) != 1:
            raise CommandError("A tenant administrator needs exactly one --tenant.")
        if role == Role.PROFESSIONAL and not tenant:
            raise CommandError("A Genesys professional needs at least one --tenant.")
        if role == Role.SUPPORT and tenant:
            raise CommandError("Support users read every tenant; do not give --tenant.")
        tenants = list(Tenant.objects.filter(slug__in=tenant))
        missing = sorted(set(tenant) - {t.slug for t in tenants})
        if missing:
            raise CommandError(f"Unknown tenant: {', '.join(missing)}.")

        password = self._password(opts["interactive"])
        user = User(username=username, email=email, role=role)
        try:
            user.full_clean(exclude=["password"])
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        user.set_password(password)
        with transaction.atomic():
            user.save()
            user.tenants.set(tenants)
            targets: list[Tenant | None] = list(tenants) or [None]
            for t in targets:
                record("user-created", by=COMMAND, tenant=t, obj=user, details={"role": role, "via": "command line"})
        self.stdout.write(f"Created {Role(role).label.lower()} '{username}'.")

    def _password(self, interactive: bool) -> str:
        if not interactive:
            value = os.environ.get(PASSWORD_ENV, "")
            if not value:
                raise CommandError(f"Set {PASSWORD_ENV} to the new user's password when using --noinput.")
            return value
        try:
            first = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("No password was typed; no user was created.") from None
        if first != again:
            raise CommandError("The two passwords differ.")
        return first
