"""Renew a recording certificate: a successor with the same subject and a new key, linked to its predecessor,
which stays active. A self-signed predecessor gets a generated successor at once; a CA-issued one gets a key that
waits for the CA's certificate (its CSR written with --out, or downloaded from the waiting key's page)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from certificates import followups, generation, renewal, requests
from certificates.management.new_keys import certificate_lines, check_new_file, file_kept_with_its_key, refused
from certificates.models import Certificate, CertificateRequest
from certificates.upload import UploadInvalid
from keystore.api import KeystoreEntry, KeystoreError
from portal.accounts.models import Tenant
from portal.audit.log import COMMAND
from portal.cli import tenant_by_slug


class Command(BaseCommand):
    help = (
        "Renew a tenant's recording certificate: a new key and a certificate with the same subject, linked to the "
        "one it renews, which stays active until you retire it. A CA-issued certificate's successor waits for the "
        "CA: write its CSR with --out FILE.csr and import the CA's answer with 'import_certificate' (no key file)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (slug)")
        parser.add_argument("alias", help="the alias of the certificate to renew")
        parser.add_argument("--days", help="the successor's validity in days (default: as the predecessor's)")
        parser.add_argument("--bits", help="the new key's size: 2048, 3072 or 4096 (default: as the predecessor's)")
        parser.add_argument("--alias", dest="new_alias", default="", help="the successor's alias (default: proposed)")
        parser.add_argument("--out", type=Path, help="for a CA-issued certificate: the CSR file to write (PEM)")
        parser.add_argument("--overwrite", action="store_true", help="replace the CSR file if it exists")
        parser.add_argument(
            "--follow-up",
            action="append",
            default=[],
            dest="follow_ups",
            metavar="NAME",
            help="a follow-up to run when the successor is ready (repeatable; see the certificate's Renew page)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        predecessor = _certificate(tenant, options["alias"])
        out: Path | None = options["out"]
        self._check_options(predecessor, options)
        defaults = renewal.renewal_defaults(predecessor)
        try:
            new = generation.check_new_key(
                tenant,
                subject=defaults,
                bits=options["bits"] if options["bits"] is not None else defaults["bits"],
                days=(options["days"] if options["days"] is not None else defaults["days"])
                if predecessor.is_self_signed
                else None,
                alias=options["new_alias"],
                needs_days=predecessor.is_self_signed,
            )
            if out is not None:
                check_new_file(out, overwrite=options["overwrite"])
            with file_kept_with_its_key(out) as write, transaction.atomic():
                outcome = renewal.renew(predecessor, new, by=COMMAND, follow_ups=options["follow_ups"])
                if outcome.waiting is not None and out is not None:
                    write(requests.csr_pem(outcome.waiting).encode("ascii"))
        except UploadInvalid as invalid:
            raise refused(invalid) from None
        except KeystoreError as error:
            raise CommandError(f"Nothing was renewed: the keystore of {tenant.slug} cannot be used: {error}") from None
        if outcome.certificate is not None:
            for line in certificate_lines(outcome.certificate):
                self.stdout.write(line)
        for note in outcome.notes:
            self.stdout.write(note)
        renews = f"'{predecessor.alias}' (serial {predecessor.serial_number}), which stays active"
        if outcome.certificate is not None:
            self.stdout.write(self.style.SUCCESS(f"Generated '{outcome.certificate.alias}', renewing {renews}."))
            return
        waiting = outcome.waiting
        assert waiting is not None  # a renewal makes a certificate or a waiting key
        self.stdout.write(f"Alias:         {waiting.alias}")
        self.stdout.write(f"Subject DN:    {waiting.subject_dn}")
        self.stdout.write(f"Key Details:   RSA {waiting.key_size} bits")
        if out is not None:
            where = f"Wrote its CSR to {out}"
        else:
            page = reverse("certificate-waiting-csr", kwargs={"tenant": tenant.slug, "waiting": waiting.id})
            where = f"Download its CSR from {settings.PORTAL_PUBLIC_URL}{page}"
        self.stdout.write(
            self.style.SUCCESS(
                f"The key '{waiting.alias}' renewing {renews}, waits for the CA's certificate. {where}; "
                f"import the CA's answer with: import_certificate --tenant {tenant.slug} CERT"
            )
        )

    def _check_options(self, predecessor: Certificate, options: dict[str, Any]) -> None:
        """Refuse, before anything is made, what does not fit this certificate."""
        if predecessor.is_self_signed and options["out"] is not None:
            raise CommandError(
                f"'{predecessor.alias}' is self-signed: its successor is generated at once, with no CSR; "
                "leave out --out."
            )
        if not predecessor.is_self_signed and options["days"] is not None:
            raise CommandError(
                f"'{predecessor.alias}' was issued by a CA, which decides how long its successor is valid; "
                "leave out --days."
            )
        offered = dict(followups.offered(predecessor))
        for name in options["follow_ups"]:
            if name not in offered:
                choices = "; ".join(f"{key} ({label})" for key, label in offered.items()) or "none"
                raise CommandError(f"--follow-up {name} is not offered for '{predecessor.alias}'. Offered: {choices}.")


def _certificate(tenant: Tenant, alias: str) -> Certificate:
    """The tenant's active certificate under ``alias`` (without regard to case, as aliases compare), or the one
    line saying why there is none to renew."""
    unknown = CommandError(f"No certificate with the alias '{alias}' in tenant {tenant.slug}.")
    if not alias.isascii():  # every stored alias is ASCII; other text, undecodable bytes included, names none
        raise unknown
    entry = KeystoreEntry.objects.of_tenant(tenant).with_alias(alias.strip()).first()
    if entry is None:
        raise unknown
    certificate = Certificate.objects.filter(entry=entry).select_related("entry").first()
    if certificate is not None and certificate.archived_at is None:
        return certificate
    if certificate is not None:
        raise CommandError(f"The certificate '{entry.alias}' is in the archive; restore it before renewing it.")
    if CertificateRequest.objects.filter(entry=entry).exists():
        raise CommandError(f"'{entry.alias}' is a key waiting for its certificate; only a certificate can be renewed.")
    raise unknown
