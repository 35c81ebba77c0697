import base64
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from keystore.masterkey import MasterKey


class Command(BaseCommand):
    help = (
        "Create the master-key file named by PORTAL_MASTER_KEY_FILE (mode 0600) if it does not exist yet, or with "
        "--path a new key file elsewhere (for a rotation)."
    )
    # It creates the key the start-up check asks for, so it must run while that check fails.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--path", help="create a new master-key file here instead")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["path"]:
            path = Path(options["path"])
        elif settings.PORTAL_MASTER_KEY:
            self.stdout.write("The master key comes from PORTAL_MASTER_KEY; no file to create.")
            return
        else:
            path = Path(settings.PORTAL_MASTER_KEY_FILE)
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
