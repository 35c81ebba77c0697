import base64
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from keystore.masterkey import MasterKey, MasterKeyError, current_master_key, forget_master_keys
from keystore.masterkeys.loading import CURRENT, provider_kind, token_settings
from keystore.masterkeys.pkcs11 import Pkcs11MasterKey


class Command(BaseCommand):
    help = (
        "Create the master key the settings name when it does not exist yet: the file named by PORTAL_MASTER_KEY_FILE "
        "(mode 0600), or the non-extractable AES key in the PKCS#11 token (PORTAL_MASTER_KEY_PKCS11_…). With --path, "
        "a new key file elsewhere (for a rotation). An existing key is never replaced."
    )
    # It creates the key the start-up check asks for, so it must run while that check fails.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", help="create a new master-key file here instead")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["path"]:
            self._create_file(Path(options["path"]))
            return
        try:
            kind = provider_kind(CURRENT)
            if kind == "PKCS#11":
                self._create_in_token()
            elif kind == "AWS KMS":
                key = current_master_key()
                self.stdout.write(
                    f"The master key is {key.describe()} (master key {key.key_id}): KMS keys are created in AWS, "
                    "not here."
                )
            elif kind == "environment":
                self.stdout.write("The master key comes from PORTAL_MASTER_KEY; no file to create.")
            elif kind == "file":
                self._create_file(Path(settings.PORTAL_MASTER_KEY_FILE))
            else:
                raise CommandError(
                    "No master key is configured: set PORTAL_MASTER_KEY_FILE, or the PORTAL_MASTER_KEY_PKCS11_… "
                    "settings, first."
                )
        except MasterKeyError as exc:
            raise CommandError(f"Master key: {exc}.") from None

    def _create_in_token(self) -> None:
        forget_master_keys()  # this process may have loaded the token's state before the key existed
        key, created = Pkcs11MasterKey.create(token_settings(CURRENT))
        try:
            if created:
                self.stdout.write(
                    f"Created the master key: {key.describe()}, a non-extractable AES-256 key (master key "
                    f"{key.key_id}). It never leaves the token: back the token up as its vendor describes."
                )
            else:
                self.stdout.write(f"The master key is there already: {key.describe()} (master key {key.key_id}).")
        finally:
            key.close()

    def _create_file(self, path: Path) -> None:
        if path.exists():
            self.stdout.write(f"Master key file {path} already exists; left as it is.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        key = base64.b64encode(secrets.token_bytes(32))
        try:
            # O_EXCL: never overwrite a key that appeared meanwhile; 0600 from the first byte written.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise CommandError(f"Cannot create {path}: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(key + b"\n")
        key_id = MasterKey.from_text(key, str(path)).key_id
        self.stdout.write(
            f"Created master key file {path} (mode 0600, master key {key_id}). "
            "Back it up: without it no private key can be read."
        )
