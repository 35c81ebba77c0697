"""Trust a root CA in a tenant: certificates it issues pass the chain check, on import and on the upload page."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from certificates import rootcas
from certificates.upload import UploadInvalid, too_large_message
from portal.audit.log import COMMAND
from portal.cli import FileTooLarge, read_bounded, tenant_by_slug


class Command(BaseCommand):
    help = (
        "Add a root CA certificate (PEM or DER) to a tenant's trusted root CAs, with the checks of the Add Root CA "
        "page. Certificates the CA issues can then be imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (slug)")
        parser.add_argument("certificate_file", type=Path, help="the root CA's certificate")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        path: Path = options["certificate_file"]
        try:
            data = read_bounded(path, settings.PORTAL_MAX_UPLOAD_BYTES)
        except FileTooLarge:
            raise CommandError(too_large_message("certificate file")) from None
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or type(error).__name__}.") from None
        try:
            root = rootcas.add_root_ca(tenant, data, by=COMMAND)
        except UploadInvalid as invalid:
            raise CommandError(" ".join(problem.message for problem in invalid.problems)) from None
        self.stdout.write(f"Subject DN:    {root.subject_dn}")
        self.stdout.write(f"Valid until:   {root.not_valid_after:%Y-%m-%d %H:%M} UTC")
        self.stdout.write(f"Fingerprint:   {root.sha256_fingerprint}")
        self.stdout.write(self.style.SUCCESS(f"Added the root CA '{root.subject_name}' to tenant {tenant.slug}."))
