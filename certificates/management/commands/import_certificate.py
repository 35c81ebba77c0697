"""Import one recording certificate and its private key from files, with the checks of the upload screen; or, with
no key file, the certificate a CA issued for a key waiting in the keystore (see ``request_certificate``)."""

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.views.decorators.debug import sensitive_variables

from certificates import requests
from certificates import upload as uploads
from certificates.management.new_keys import certificate_lines
from keystore.api import KeystoreError
from portal.audit.log import COMMAND
from portal.cli import FileTooLarge, read_bounded, tenant_by_slug

PASSWORD_VARIABLE = "PORTAL_KEY_PASSWORD"
FIELD_NAMES = {
    uploads.CERTIFICATE_FILE: "Certificate File",
    uploads.KEY_FILE: "Key File",
    uploads.KEY_PASSWORD: "Private Key Password",
    uploads.ALIAS: "Alias",
}


class Command(BaseCommand):
    help = (
        "Upload a recording certificate (PEM or DER) and its private key into a tenant, with the same parser and "
        f"checks as the Upload Certificate screen. An encrypted key's password is read from ${PASSWORD_VARIABLE}."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (slug)")
        parser.add_argument("--alias", default="", help="the keystore alias (default: proposed from the certificate)")
        parser.add_argument("certificate_file", type=Path)
        parser.add_argument("key_file", type=Path, nargs="?", help="the private key (left out for a key that waits)")

    def _read(self, path: Path, field: str, what: str) -> bytes:
        try:
            return read_bounded(path, settings.PORTAL_MAX_UPLOAD_BYTES)
        except FileTooLarge:
            raise CommandError(f"{FIELD_NAMES[field]}: {uploads.too_large_message(what)}") from None
        except OSError as error:
            raise CommandError(f"{FIELD_NAMES[field]}: cannot read {path}: {error.strerror}.") from None

    @sensitive_variables("key_data", "password")
    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        if options["key_file"] is None and options["alias"]:
            raise CommandError(
                "Without a key file the certificate takes the alias of its waiting key; leave out --alias."
            )
        certificate_data = self._read(options["certificate_file"], uploads.CERTIFICATE_FILE, "certificate file")
        if options["key_file"] is None:
            self._accept_reply(tenant, certificate_data)
            return
        key_data = self._read(options["key_file"], uploads.KEY_FILE, "key file")
        password = os.environ.get(PASSWORD_VARIABLE) or None
        try:
            validated = uploads.validate_upload(
                tenant,
                certificate_data=certificate_data,
                key_data=key_data,
                password=password,
                alias=options["alias"] or None,
            )
            parsed = validated.certificate.parsed
            self.stdout.write(f"Subject Name:  {parsed.subject_name}")
            self.stdout.write(f"Serial Number: {parsed.serial_number} (hex {parsed.serial_hex})")
            self.stdout.write(f"Subject DN:    {parsed.subject_dn}")
            self.stdout.write(f"Issuer DN:     {parsed.issuer_dn}")
            validity = f"{parsed.not_valid_before:%Y-%m-%d %H:%M} to {parsed.not_valid_after:%Y-%m-%d %H:%M} UTC"
            self.stdout.write(f"Valid:         {validity}")
            self.stdout.write(f"Fingerprint:   {parsed.sha256_fingerprint}")
            self.stdout.write(f"Key Details:   {validated.key.info.description}")
            self.stdout.write(f"Chain:         {validated.certificate.chain.reason}")
            self.stdout.write(f"Status:        {validated.certificate.status_label}")
            certificate = uploads.save_upload(tenant, validated, by=COMMAND, action="certificate-imported")
        except uploads.UploadInvalid as invalid:
            raise _refused(invalid) from None
        if validated.alias_note:
            self.stdout.write(f"Alias:         {validated.alias} ({validated.alias_note})")
        for warning in validated.warnings:
            self.stderr.write(self.style.WARNING(warning))
        self.stdout.write(self.style.SUCCESS(f"Imported '{certificate.alias}' into tenant {tenant.slug}."))

    def _accept_reply(self, tenant: Any, certificate_data: bytes) -> None:
        try:
            outcome = requests.accept_reply(tenant, certificate_data, by=COMMAND)
        except uploads.UploadInvalid as invalid:
            raise _refused(invalid) from None
        except KeystoreError as error:
            raise CommandError(f"Nothing was imported: the keystore of {tenant.slug} cannot be used: {error}") from None
        certificate = outcome.certificate
        assert certificate is not None  # an accepted answer always makes the certificate
        for line in certificate_lines(certificate):
            self.stdout.write(line)
        self.stdout.write(f"Chain:         {certificate.chain_reason}")
        for note in outcome.notes:
            self.stdout.write(note)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported the CA's certificate for the waiting key '{certificate.alias}' into tenant {tenant.slug}."
            )
        )


def _refused(invalid: uploads.UploadInvalid) -> CommandError:
    return CommandError("\n".join(f"{FIELD_NAMES.get(p.field, p.field)}: {p.message}" for p in invalid.problems))
