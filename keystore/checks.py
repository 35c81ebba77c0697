"""Start-up checks: the portal refuses to run with a master key that is missing, malformed, unreachable, or not the
one the stored tenant keys are wrapped with, and says which in one line. ``runserver`` and ``migrate`` run them as
system checks; portal/wsgi.py runs them before serving in production.
"""

from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register

from .masterkey import (
    MasterKeyError,
    MasterKeyProvider,
    MasterKeyUnavailable,
    current_master_key,
    previous_master_key,
)
from .masterkeys.base import one_line
from .rotation import wrapped_key_counts

FIX_KEY = (
    "Set exactly one of PORTAL_MASTER_KEY (base64 of 32 random bytes), PORTAL_MASTER_KEY_FILE (a file holding it), "
    "the PORTAL_MASTER_KEY_PKCS11_… settings (a PKCS#11 token) or the PORTAL_MASTER_KEY_KMS_… settings (AWS KMS)."
)
FIX_PROVIDER = (
    "Check the module path, token label, PIN and key label (create the key with 'manage.py init_master_key'), or "
    "that the KMS key exists, is enabled and reachable with these AWS credentials."
)


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} with master key {key_id}" for key_id, n in counts.items())


@register("keystore")
def check_master_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    counts = wrapped_key_counts() or {}
    current: MasterKeyProvider | None = None
    previous: MasterKeyProvider | None = None
    stored = f" Stored tenant keys: {_describe(counts)}." if counts else ""
    try:
        current = current_master_key()
    except MasterKeyUnavailable as exc:
        messages.append(
            Error(
                f"The keystore master key cannot be reached: {one_line(str(exc))}.{stored}",
                hint=FIX_PROVIDER,
                id="keystore.E004",
            )
        )
    except MasterKeyError as exc:
        messages.append(
            Error(
                f"The keystore master key is missing or unusable: {one_line(str(exc))}.{stored}",
                hint=FIX_KEY,
                id="keystore.E001",
            )
        )
    try:
        previous = previous_master_key()
    except MasterKeyUnavailable as exc:
        messages.append(
            Error(
                f"The previous keystore master key cannot be reached: {one_line(str(exc))}.",
                hint="Make the previous master key reachable (its PORTAL_PREVIOUS_MASTER_KEY_PKCS11_… or _KMS_… "
                "settings, the token, the module, the PIN, the key's state in KMS): tenant keys still wrapped by it "
                "open with nothing else.",
                id="keystore.E005",
            )
        )
    except MasterKeyError as exc:
        messages.append(
            Error(
                f"The previous keystore master key is unusable: {one_line(str(exc))}.",
                hint="Fix or unset PORTAL_PREVIOUS_MASTER_KEY / PORTAL_PREVIOUS_MASTER_KEY_FILE (or its _PKCS11_… or "
                "_KMS_… settings).",
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
                hint="Configure the master key with that identifier as PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE "
                "(or its _PKCS11_… or _KMS_… settings). If a rotation to the current key was interrupted, configure "
                "the old key as PORTAL_PREVIOUS_MASTER_KEY… and finish it with 'manage.py rotate_master_key'.",
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
                    hint="Unset PORTAL_PREVIOUS_MASTER_KEY / PORTAL_PREVIOUS_MASTER_KEY_FILE (or its _PKCS11_… or "
                    "_KMS_… settings) and destroy that key.",
                    id="keystore.W002",
                )
            )
    return messages
