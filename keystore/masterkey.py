"""The master key: 32 random bytes, base64, from PORTAL_MASTER_KEY or the file PORTAL_MASTER_KEY_FILE.

It wraps the tenants' data keys and is never stored in the database; only its identifier is, next to each wrapped key,
so a wrong master key is recognised before anything is decrypted.

During a rotation the portal also knows the previous master key (PORTAL_PREVIOUS_MASTER_KEY or
PORTAL_PREVIOUS_MASTER_KEY_FILE): new data keys are wrapped with the current key, data keys not re-wrapped yet are
still opened with the previous one, looked up by the identifier stored with them.
"""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .envelope import KEY_BYTES

_SETTINGS = (
    "PORTAL_MASTER_KEY",
    "PORTAL_MASTER_KEY_FILE",
    "PORTAL_PREVIOUS_MASTER_KEY",
    "PORTAL_PREVIOUS_MASTER_KEY_FILE",
)


class MasterKeyError(Exception):
    """The master key is missing or malformed. The message says which setting to fix."""


@dataclass(frozen=True)
class MasterKey:
    key: bytes = field(repr=False)
    key_id: str

    @classmethod
    def from_bytes(cls, key: bytes) -> "MasterKey":
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"a master key must be {KEY_BYTES} bytes, base64-encoded; this one is {len(key)}")
        key_id = hmac.new(key, b"recording-portal master key id", hashlib.sha256).hexdigest()[:16]
        return cls(key=key, key_id=key_id)

    @classmethod
    def from_text(cls, text: str | bytes, source: str) -> "MasterKey":
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise MasterKeyError(f"{source} is not base64 text") from None
        try:
            return cls.from_bytes(raw)
        except MasterKeyError as exc:
            raise MasterKeyError(f"{source}: {exc}") from None


def read_master_key_file(path: str | Path, setting: str = "PORTAL_MASTER_KEY_FILE") -> MasterKey:
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        raise MasterKeyError(f"the master key file {path} ({setting}) does not exist") from None
    except OSError as exc:
        raise MasterKeyError(f"the master key file {path} ({setting}) cannot be read: {exc.strerror}") from None
    return MasterKey.from_text(text, f"the master key file {path} ({setting})")


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or "")


def _load(prefix: str) -> MasterKey | None:
    text, path = _setting(prefix), _setting(f"{prefix}_FILE")
    if text:
        return MasterKey.from_text(text, prefix)
    if path:
        return read_master_key_file(path, f"{prefix}_FILE")
    return None


@cache
def current_master_key() -> MasterKey:
    """The configured master key (cached; tests that change the setting clear the cache through the signal)."""
    key = _load("PORTAL_MASTER_KEY")
    if key is None:
        raise MasterKeyError("no master key: set PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE")
    return key


@cache
def previous_master_key() -> MasterKey | None:
    """The master key being rotated away from, while a rotation is under way; None otherwise."""
    return _load("PORTAL_PREVIOUS_MASTER_KEY")


def master_key_by_id(key_id: str) -> MasterKey | None:
    """The configured key (current or previous) with this identifier, or None when neither is it."""
    current = current_master_key()
    if current.key_id == key_id:
        return current
    previous = previous_master_key()
    if previous is not None and previous.key_id == key_id:
        return previous
    return None


def forget_master_keys() -> None:
    current_master_key.cache_clear()
    previous_master_key.cache_clear()


@receiver(setting_changed)
def _forget_master_key(setting: str, **kwargs: object) -> None:
    if setting in _SETTINGS:
        forget_master_keys()
