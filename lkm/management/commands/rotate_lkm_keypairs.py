"""Scheduled rotation, for cron: a keypair for each tenant whose schedule is due, made once even when this runs on
several nodes at the same moment."""

from typing import Any

from django.core.management.base import BaseCommand

from keystore.api import KeystoreError
from lkm.rotation import rotate_due
from portal.audit.log import COMMAND


class Command(BaseCommand):
    help = (
        "Create one Local Key Manager keypair for each tenant whose rotation is due (see the Local Key Manager "
        "page). Run it from cron, e.g. hourly, on one node or several. Old keypairs stay and keep decrypting."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rotated = rotate_due(by=COMMAND)
        except KeystoreError as error:
            self.stderr.write(f"Rotation stopped: {error}.")
            raise SystemExit(1) from None
        for done in rotated:
            self.stdout.write(f"{done.tenant_slug}: created keypair {done.keypair.id}")
        self.stdout.write(f"{len(rotated)} keypair{'' if len(rotated) == 1 else 's'} created.")
