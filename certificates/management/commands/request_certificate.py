"""Request a recording certificate from a certificate authority: a new key waits in the keystore and its CSR is
written to a file for the CA. The CA's certificate is imported later with ``import_certificate`` (no key file)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from certificates import generation, requests
from certificates.management.new_keys import (
    add_key_arguments,
    add_subject_arguments,
    check_new_file,
    file_kept_with_its_key,
    refused,
    subject_of,
)
from certificates.upload import UploadInvalid
from keystore.api import KeystoreError
from portal.audit.log import COMMAND
from portal.cli import tenant_by_slug


class Command(BaseCommand):
    help = (
        "Generate an RSA key pair in a tenant's keystore and write its certificate signing request (PEM, SHA-256) "
        "for a certificate authority. The key waits for its certificate; import the CA's answer with "
        "'import_certificate --tenant SLUG CERT' (no key file)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (slug)")
        add_subject_arguments(parser)
        add_key_arguments(parser)
        parser.add_argument("--out", required=True, type=Path, help="the CSR file to write (PEM)")
        parser.add_argument("--overwrite", action="store_true", help="replace the CSR file if it exists")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        out: Path = options["out"]
        try:
            new = generation.check_new_key(
                tenant,
                subject=subject_of(options),
                bits=options["bits"],
                days=None,
                alias=options["alias"],
                needs_days=False,
            )
            check_new_file(out, overwrite=options["overwrite"])
            # The key is kept only if its CSR file is written: a failed write rolls the key back, a failed commit
            # takes the file away again.
            with file_kept_with_its_key(out) as write, transaction.atomic():
                outcome = requests.request_certificate(tenant, new, by=COMMAND)
                waiting = outcome.waiting
                assert waiting is not None  # a request always leaves its key waiting
                write(requests.csr_pem(waiting).encode("ascii"))
        except UploadInvalid as invalid:
            raise refused(invalid) from None
        except KeystoreError as error:
            raise CommandError(f"Nothing was made: the keystore of {tenant.slug} cannot be used: {error}") from None
        self.stdout.write(f"Alias:         {waiting.alias}")
        self.stdout.write(f"Subject DN:    {waiting.subject_dn}")
        self.stdout.write(f"Key Details:   RSA {waiting.key_size} bits")
        for note in outcome.notes:
            self.stdout.write(note)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote the CSR for '{waiting.alias}' to {out}; the key waits for the CA's certificate "
                f"(import it with: import_certificate --tenant {tenant.slug} CERT)."
            )
        )
