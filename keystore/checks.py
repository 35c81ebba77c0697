"""Start-up checks: the portal refuses to run with a master key that is missing, malformed, or not the one the
stored tenant keys are wrapped with, and says which. ``runserver`` and ``migrate`` run them as system checks;
portal/wsgi.py runs them before serving in production.
"""

from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register

from .masterkey import MasterKeyError, MasterKeyProvider, current_master_key, previous_master_key
from .rotation import wrapped_key_counts

FIX_KEY = "Set PORTAL_MASTER_KEY (base64 of 32 random bytes) or PORTAL_MASTER_KEY_FILE (a file holding it)."


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} with master key {key_id}" for key_id, n in counts.items())


@register("keystore")
def check_master_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    counts = wrapped_key_counts() or {}
    current: MasterKeyProvider | None = None
    previous: MasterKeyProvider | None = None
    try:
        current = current_master_key()
    except MasterKeyError as exc:
        stored = f" Stored tenant keys: {_describe(counts)}." if counts else ""
        messages.append(
            Error(f"The keystore master key is missing or unusable: {exc}.{stored}", hint=FIX_KEY, id="keystore.E001")
        )
    try:
        previous = previous_master_key()
    except MasterKeyError as exc:
        messages.append(
            Error(
                f"The previous keystore master key is unusable: {exc}.",
                hint="Fix or unset PORTAL_PREVIOUS_MASTER_KEY / PORTAL_PREVIOUS_MASTER_KEY_FILE.",
                id="keystore.E003",
            )
        )
    if current is None:
        return messages
    known = {current.key_id} | ({previous.key_id} if previous else set())
    unknown = {key_id: n for key_id, n in counts.items() if key_id not in known}
    if unknown:
        total = sum(unknown.values())
        messages.append(
            Error(
                f"{total} tenant {'key is' if total == 1 else 'keys are'} wrapped with a master key that is not "
                f"configured: {_describe(unknown)}. The configured master key is {current.key_id}"
                + (f" and the previous one {previous.key_id}." if previous else "."),
                hint="Configure the master key with that identifier as PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE. "
                "If a rotation to the current key was interrupted, set the old key as PORTAL_PREVIOUS_MASTER_KEY or "
                "PORTAL_PREVIOUS_MASTER_KEY_FILE and finish it with 'manage.py rotate_master_key'.",
                id="keystore.E002",
            )
        )
    if previous is not None and previous.key_id != current.key_id:
        waiting = counts.get(previous.key_id, 0)
        if waiting:
            messages.append(
                Warning(
                    f"A master-key rotation is unfinished: {waiting} tenant keys are still wrapped with the previous "
                    f"master key {previous.key_id}.",
                    hint="Run 'manage.py rotate_master_key'.",
                    id="keystore.W001",
                )
            )
        else:
            messages.append(
                Warning(
                    f"The previous master key {previous.key_id} no longer wraps any tenant key.",
                    hint="Unset PORTAL_PREVIOUS_MASTER_KEY / PORTAL_PREVIOUS_MASTER_KEY_FILE and destroy that key.",
                    id="keystore.W002",
                )
            )
    return messages
