"""Generate a key pair and its self-signed recording certificate inside a tenant's keystore: the Generate page's
service, for scripts and for operators at the server."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certificates import generation
from certificates.management.new_keys import (
    add_key_arguments,
    add_subject_arguments,
    certificate_lines,
    refused,
    subject_of,
)
from certificates.upload import UploadInvalid
from keystore.api import KeystoreError
from portal.audit.log import COMMAND
from portal.cli import tenant_by_slug


class Command(BaseCommand):
    help = (
        "Generate an RSA key pair in a tenant's keystore with a self-signed certificate for it (SHA-256, the "
        "extensions of 'openssl req -x509'). The private key never leaves the keystore except in a keystore backup."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (slug)")
        add_subject_arguments(parser)
        parser.add_argument(
            "--days",
            required=True,
            help=f"how long the certificate is valid, {generation.MIN_DAYS} to {generation.MAX_DAYS:,} days",
        )
        add_key_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        try:
            new = generation.check_new_key(
                tenant,
                subject=subject_of(options),
                bits=options["bits"],
                days=options["days"],
                alias=options["alias"],
            )
            outcome = generation.generate_certificate(tenant, new, by=COMMAND)
        except UploadInvalid as invalid:
            raise refused(invalid) from None
        except KeystoreError as error:
            raise CommandError(
                f"Nothing was generated: the keystore of {tenant.slug} cannot be used: {error}"
            ) from None
        certificate = outcome.certificate
        assert certificate is not None  # a generated key always has its certificate
        for line in certificate_lines(certificate):
            self.stdout.write(line)
        for note in outcome.notes:
            self.stdout.write(note)
        self.stdout.write(self.style.SUCCESS(f"Generated '{certificate.alias}' in tenant {tenant.slug}."))
