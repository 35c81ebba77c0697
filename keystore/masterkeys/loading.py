"""Which master key the settings configure, loaded once per process.

The current key's settings start with PORTAL_MASTER_KEY, those of the key being rotated away from with
PORTAL_PREVIOUS_MASTER_KEY; the suffix names the provider:

- (none): base64 of 32 random bytes in the variable itself;
- ``_FILE``: a file holding that text;
- ``_PKCS11_MODULE``, ``_PKCS11_TOKEN_LABEL``, ``_PKCS11_PIN`` or ``_PKCS11_PIN_FILE``, ``_PKCS11_KEY_LABEL``: a key
  inside a PKCS#11 token;
- ``_KMS_KEY_ID``, ``_KMS_REGION``, ``_KMS_ENDPOINT_URL``: an AWS KMS key.

Exactly one provider per prefix: two configured is an error naming both, never a silent choice.
"""

import threading
from collections.abc import Callable

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .base import MasterKeyError, MasterKeyProvider
from .files import master_key_from_environment, read_master_key_file
from .pkcs11 import Pkcs11MasterKey, TokenSettings, forget_token_state, read_pin

CURRENT = "PORTAL_MASTER_KEY"
PREVIOUS = "PORTAL_PREVIOUS_MASTER_KEY"

PKCS11_SUFFIXES = ("_PKCS11_MODULE", "_PKCS11_TOKEN_LABEL", "_PKCS11_PIN", "_PKCS11_PIN_FILE", "_PKCS11_KEY_LABEL")
KMS_SUFFIXES = ("_KMS_KEY_ID", "_KMS_REGION", "_KMS_ENDPOINT_URL")
# Provider name -> the setting suffixes that configure it (any of them set means the provider is meant).
PROVIDERS: dict[str, tuple[str, ...]] = {
    "environment": ("",),
    "file": ("_FILE",),
    "PKCS#11": PKCS11_SUFFIXES,
    "AWS KMS": KMS_SUFFIXES,
}
SETTINGS = tuple(
    prefix + suffix for prefix in (CURRENT, PREVIOUS) for suffixes in PROVIDERS.values() for suffix in suffixes
)


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or "").strip()


def configured_providers(prefix: str) -> dict[str, list[str]]:
    """Provider name -> the settings of it that are set, for the providers that have any."""
    found: dict[str, list[str]] = {}
    for name, suffixes in PROVIDERS.items():
        used = [prefix + suffix for suffix in suffixes if _setting(prefix + suffix)]
        if used:
            found[name] = used
    return found


def _names(used: list[str]) -> str:
    return used[0] if len(used) == 1 else "/".join([used[0], *(name.removeprefix(used[0]) for name in used[1:])])


def _require(prefix: str, suffix: str, what: str) -> str:
    value = _setting(prefix + suffix)
    if not value:
        raise MasterKeyError(f"the PKCS#11 {what} is missing: set {prefix}{suffix}")
    return value


def _pkcs11(prefix: str) -> MasterKeyProvider:
    return Pkcs11MasterKey(token_settings(prefix))


def token_settings(prefix: str) -> TokenSettings:
    return TokenSettings(
        module=_require(prefix, "_PKCS11_MODULE", "module"),
        token_label=_require(prefix, "_PKCS11_TOKEN_LABEL", "token label"),
        key_label=_require(prefix, "_PKCS11_KEY_LABEL", "key label"),
        pin=read_pin(_setting(prefix + "_PKCS11_PIN"), _setting(prefix + "_PKCS11_PIN_FILE"), prefix),
        prefix=prefix,
    )


def _kms(prefix: str) -> MasterKeyProvider:
    from .kms import KmsMasterKey, KmsSettings  # boto3 takes a while to import: only when KMS is configured

    key = _setting(prefix + "_KMS_KEY_ID")
    if not key:
        raise MasterKeyError(f"the AWS KMS key is missing: set {prefix}_KMS_KEY_ID (key id, ARN or alias)")
    return KmsMasterKey(
        KmsSettings(
            key=key,
            region=_setting(prefix + "_KMS_REGION"),
            endpoint_url=_setting(prefix + "_KMS_ENDPOINT_URL"),
            prefix=prefix,
        )
    )


_BUILDERS: dict[str, Callable[[str], MasterKeyProvider]] = {
    "environment": lambda prefix: master_key_from_environment(_setting(prefix), prefix),
    "file": lambda prefix: read_master_key_file(_setting(prefix + "_FILE"), prefix + "_FILE"),
    "PKCS#11": _pkcs11,
    "AWS KMS": _kms,
}


def provider_kind(prefix: str) -> str | None:
    """The one provider configured under ``prefix``; None when none is; MasterKeyError when several are."""
    found = configured_providers(prefix)
    if len(found) > 1:
        named = " and ".join(f"{_names(used)} ({name})" for name, used in found.items())
        raise MasterKeyError(f"more than one master key is configured: {named}; set only one")
    return next(iter(found), None)


def load(prefix: str) -> MasterKeyProvider | None:
    kind = provider_kind(prefix)
    return None if kind is None else _BUILDERS[kind](prefix)


_lock = threading.Lock()
_loaded: dict[str, MasterKeyProvider | None] = {}


def _cached(prefix: str) -> MasterKeyProvider | None:
    """Loaded once per process; a failure is not remembered, so a token or KMS back again is used again."""
    with _lock:
        if prefix not in _loaded:
            _loaded[prefix] = load(prefix)
        return _loaded[prefix]


def current_master_key() -> MasterKeyProvider:
    """The configured master key (cached; tests that change the settings clear the cache through the signal)."""
    key = _cached(CURRENT)
    if key is None:
        raise MasterKeyError(
            "no master key: set PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE, or the PORTAL_MASTER_KEY_PKCS11_… or "
            "PORTAL_MASTER_KEY_KMS_… settings"
        )
    return key


def previous_master_key() -> MasterKeyProvider | None:
    """The master key being rotated away from, while a rotation is under way; None otherwise."""
    return _cached(PREVIOUS)


def master_key_by_id(key_id: str) -> MasterKeyProvider | None:
    """The configured key (current or previous) with this identifier, or None when neither is it."""
    current = current_master_key()
    if current.key_id == key_id:
        return current
    previous = previous_master_key()
    if previous is not None and previous.key_id == key_id:
        return previous
    return None


def forget_master_keys() -> None:
    with _lock:
        for provider in _loaded.values():
            if provider is not None:
                provider.close()
        _loaded.clear()
    forget_token_state()


@receiver(setting_changed)
def _forget_master_key(setting: str, **kwargs: object) -> None:
    if setting in SETTINGS:
        forget_master_keys()
