from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from keystore.masterkey import MasterKeyError, current_master_key, previous_master_key
from keystore.rotation import BATCH_SIZE, pending_tenant_keys, rotate, wrapped_key_counts


class Command(BaseCommand):
    help = (
        "Re-wrap every tenant key under the current master key (the PORTAL_MASTER_KEY… settings: environment, file, "
        "PKCS#11 token or AWS KMS), opening the others with the key the PORTAL_PREVIOUS_MASTER_KEY… settings name, "
        "which may be of another kind. Each key is re-wrapped completely or not at all: safe to interrupt and to "
        "run again."
    )
    # It must run while the start-up check still reports the rotation as unfinished.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
        parser.add_argument(
            "--batch-size", type=int, default=BATCH_SIZE, help=f"tenant keys per transaction (default {BATCH_SIZE})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            current = current_master_key()
            previous = previous_master_key()
        except MasterKeyError as exc:
            raise CommandError(f"Master key: {exc}.") from None
        pending = pending_tenant_keys(current)
        if not pending:
            self.stdout.write(f"All tenant keys are wrapped with the current master key {current.key_id}.")
            self._advise(previous)
            return
        self.stdout.write(
            f"Re-wrapping {len(pending)} tenant keys under master key {current.key_id}, {current.describe()}"
            + (
                f" (previous key {previous.key_id}, {previous.describe()})."
                if previous
                else " (no previous key is configured)."
            )
        )
        with tqdm(total=len(pending), unit="key", disable=options["no_progress"], file=self.stderr._out) as bar:
            try:
                result = rotate(pending, batch_size=max(1, options["batch_size"]), on_step=bar.update)
            except MasterKeyError as exc:  # a token or KMS gone mid-way: the batch under way was rolled back
                raise CommandError(
                    f"Master key: {exc}. Keys by master key now: {wrapped_key_counts() or {}}. Run this command "
                    "again when it is back: it continues where it stopped."
                ) from None
        self.stdout.write(
            f"Re-wrapped {result.rewrapped}; {result.already_current} were already under the current key."
        )
        if result.failed:
            for message in result.failed[:20]:
                self.stderr.write(f"  {message}")
            left = wrapped_key_counts() or {}
            raise CommandError(
                f"{len(result.failed)} tenant keys could not be re-wrapped (nothing was changed for them). "
                f"Keys by master key now: {left}. Configure the missing key as PORTAL_PREVIOUS_MASTER_KEY "
                "(or its _FILE, _PKCS11_… or _KMS_… settings) and run this command again."
            )
        self._advise(previous)

    def _advise(self, previous: Any) -> None:
        if previous is not None:
            self.stdout.write(
                f"The previous master key {previous.key_id} is no longer needed: unset PORTAL_PREVIOUS_MASTER_KEY / "
                "PORTAL_PREVIOUS_MASTER_KEY_FILE (or its _PKCS11_… or _KMS_… settings), restart the portal, then "
                "destroy the old key. Keep a backup of the current master key: without it no private key can be read."
            )
