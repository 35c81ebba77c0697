import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from portal.accounts.models import Role, Tenant, User
from portal.audit.log import COMMAND, record


class Command(BaseCommand):
    help = "Create the demo tenant and its administrator once; print the password only when it is created."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            tenant, created = Tenant.objects.get_or_create(slug="demo", defaults={"name": "Demo tenant"})
            if created:
                record("tenant-created", by=COMMAND, tenant=tenant, obj=tenant, details={"via": "demo setup"})
            if User.objects.filter(username="demo-admin").exists():
                self.stdout.write("Demo tenant ready; sign in as 'demo-admin' with the password printed earlier.")
                return
            password = secrets.token_urlsafe(12)
            user = User(username="demo-admin", role=Role.TENANT_ADMIN)
            user.set_password(password)
            user.save()
            user.tenants.add(tenant)
            record(
                "user-created",
                by=COMMAND,
                tenant=tenant,
                obj=user,
                details={"role": Role.TENANT_ADMIN, "via": "demo setup"},
            )
        self.stdout.write(self.style.SUCCESS("Demo tenant 'demo' created."))
        self.stdout.write(f"Sign in as: demo-admin   password: {password}   (shown once; keep it)")
