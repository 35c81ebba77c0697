"""Move from the sample Local Key Manager: import its keypair table, exported with mysql --batch."""

import zoneinfo
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from keystore.api import KeystoreError
from lkm.sample_export import MAX_EXPORT_BYTES, SampleExportError, read_sample_export
from lkm.sample_import import ImportRefused, import_sample_keypairs
from portal.audit.log import COMMAND
from portal.cli import FileTooLarge, read_bounded, tenant_by_slug


class Command(BaseCommand):
    help = (
        "Import the keypairs of the sample Local Key Manager (MyPureCloud/local-key-manager) into the tenant's "
        "keystore, keeping their ids so Genesys Cloud's references keep working. FILE is its keypair table as "
        "`mysql --batch -e 'SELECT * FROM keypair' DBNAME` prints it. All or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (its slug)")
        parser.add_argument(
            "--time-zone",
            default="UTC",
            help="the zone date_created was written in (the sample's JVM zone), e.g. Europe/Paris; UTC by default",
        )
        parser.add_argument("file", type=Path, help="the exported keypair table")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        try:
            zone = zoneinfo.ZoneInfo(options["time_zone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"Unknown time zone '{options['time_zone']}'.") from None
        path: Path = options["file"]
        try:
            data = read_bounded(path, MAX_EXPORT_BYTES)
        except FileTooLarge:
            raise CommandError(f"{path}: larger than {MAX_EXPORT_BYTES // (1024 * 1024)} MB.") from None
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror or error}.") from None
        try:
            rows = read_sample_export(data, tz=zone)
            imported = import_sample_keypairs(tenant, rows, by=COMMAND)
        except (SampleExportError, ImportRefused) as refused:
            raise CommandError(f"Nothing was imported: {refused}") from None
        except KeystoreError as error:
            raise CommandError(f"Nothing was imported: {error}.") from None
        for keypair in imported:
            self.stdout.write(f"Imported keypair {keypair.id} (created {keypair.date_created:%Y-%m-%d %H:%M:%S} UTC)")
        self.stdout.write(f"Imported {len(imported)} keypair{'' if len(imported) == 1 else 's'} into {tenant.slug}.")
