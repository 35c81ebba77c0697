"""Restore recording certificates and their keys from a keystore backup (PKCS#12) on the server: the web page's
restore, with the larger budget of the command line for files a web request may not spend that much work on, and
progress as the keys are restored."""

import getpass
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.views.decorators.debug import sensitive_variables

from certificates import restore as restores
from keystore.api import (
    BACKUP_PASSWORD_VARIABLE,
    COMMAND_RESTORE,
    MAX_BACKUP_BYTES,
    ImportFileError,
    KeystoreError,
    backup_password_from_environment,
)
from portal.audit.log import COMMAND
from portal.cli import FileTooLarge, read_bounded, tenant_by_slug

# Progress lines per restore: one every tenth of the keys, and the last.
PROGRESS_LINES = 10


class Command(BaseCommand):
    help = (
        "Restore every private key of a PKCS#12 keystore backup (this portal's, keytool's or OpenSSL's) with its "
        "certificate into a tenant, with the checks of the Restore page and a larger work budget. The password is "
        f"read from ${BACKUP_PASSWORD_VARIABLE} (or --password-env NAME, or --password-file FILE), or asked for when "
        "a terminal is present. Progress goes to standard error (-v 0 silences it)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="the tenant's identifier (slug)")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password-env",
            metavar="NAME",
            help=f"the environment variable holding the backup's password (default {BACKUP_PASSWORD_VARIABLE})",
        )
        source.add_argument("--password-file", type=Path, help="a file whose first line is the backup's password")
        parser.add_argument("backup_file", type=Path)

    @sensitive_variables("password")
    def _password(self, options: dict[str, Any]) -> str:
        path: Path | None = options["password_file"]
        if path is not None:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"Cannot read the password file {path}: {_reason(error)}.") from None
            return lines[0] if lines else ""
        variable = options["password_env"] or BACKUP_PASSWORD_VARIABLE
        try:
            return backup_password_from_environment(variable)
        except ValueError as unset:
            # A terminal is asked only when no variable was named: a named one that is unset is a mistake to report.
            if options["password_env"] or not sys.stdin.isatty():
                raise CommandError(str(unset)) from None
        try:
            return getpass.getpass("Backup password: ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("No password given; nothing was restored.") from None

    def _read(self, path: Path) -> bytes:
        try:
            return read_bounded(path, MAX_BACKUP_BYTES)
        except FileTooLarge:
            limit = (
                f"{MAX_BACKUP_BYTES // 1024**2} MB" if MAX_BACKUP_BYTES >= 1024**2 else f"{MAX_BACKUP_BYTES // 1024} KB"
            )
            raise CommandError(f"{path} is larger than {limit}; a keystore backup is far smaller.") from None
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {_reason(error)}.") from None

    def _progress(self, verbosity: int) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            if verbosity >= 1 and (done == total or done % math.ceil(total / PROGRESS_LINES) == 0):
                self.stderr.write(f"Restoring keys: {done} of {total} done")

        return report

    @sensitive_variables("password", "data")
    def handle(self, *args: Any, **options: Any) -> None:
        tenant = tenant_by_slug(options["tenant"])
        path = options["backup_file"]
        data = self._read(path)
        password = self._password(options)
        if options["verbosity"] >= 1:
            self.stderr.write(f"Opening {path.name}: deriving its keys from the password can take some seconds.")
        progress = self._progress(options["verbosity"])
        try:
            report = restores.restore_backup(
                tenant, data, password, by=COMMAND, budget=COMMAND_RESTORE, progress=progress
            )
        except ImportFileError as error:
            raise CommandError(f"Nothing was restored. {error}") from None
        except restores.RestoreRefused as refused:
            raise CommandError(f"Nothing was restored. {refused}") from None
        except KeystoreError as error:
            raise CommandError(f"Nothing was restored: the keystore of {tenant.slug} cannot be used: {error}") from None
        for name, reason in report.skipped:
            self.stderr.write(f"Skipped {name}: {reason}")
        if options["verbosity"] >= 2:
            self.stderr.write(f"Key derivations from the password: {report.derivations}")
        self.stdout.write(self.style.SUCCESS(f"{tenant.slug}: {report.summary}"))


def _reason(error: Exception) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
