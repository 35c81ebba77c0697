"""Scheduled rotation, for cron: a keypair for each tenant whose schedule is due, made once even when this runs on
several nodes at the same moment."""

from typing import Any

from django.core.management.base import BaseCommand

from lkm.rotation import rotate_due
from portal.audit.log import COMMAND


class Command(BaseCommand):
    help = (
        "Create one Local Key Manager keypair for each tenant whose rotation is due (see the Local Key Manager "
        "page). Run it from cron, e.g. hourly, on one node or several. Old keypairs stay and keep decrypting. "
        "Exits 1 when a due tenant's keypair could not be made."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes = rotate_due(by=COMMAND)
        created = [done for done in outcomes if done.keypair is not None]
        for done in outcomes:
            if done.keypair is not None:
                self.stdout.write(f"{done.tenant_slug}: created keypair {done.keypair.id}")
            else:
                self.stderr.write(f"{done.tenant_slug}: no keypair was created: {done.failure}.")
        self.stdout.write(f"{len(created)} keypair{'' if len(created) == 1 else 's'} created.")
        if len(created) < len(outcomes):
            raise SystemExit(1)
