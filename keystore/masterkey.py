"""The master key: 32 random bytes, base64, from PORTAL_MASTER_KEY or the file PORTAL_MASTER_KEY_FILE.

It wraps the tenants' data keys and is never stored in the database; only its identifier is, next to each wrapped key,
so a wrong master key is recognised before anything is decrypted.
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


def read_master_key_file(path: str | Path) -> MasterKey:
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        raise MasterKeyError(f"the master key file {path} (PORTAL_MASTER_KEY_FILE) does not exist") from None
    except OSError as exc:
        raise MasterKeyError(f"the master key file {path} cannot be read: {exc.strerror}") from None
    return MasterKey.from_text(text, f"the master key file {path}")


@cache
def current_master_key() -> MasterKey:
    """The configured master key (cached; tests that change the setting clear the cache through the signal)."""
    if settings.PORTAL_MASTER_KEY:
        return MasterKey.from_text(settings.PORTAL_MASTER_KEY, "PORTAL_MASTER_KEY")
    if settings.PORTAL_MASTER_KEY_FILE:
        return read_master_key_file(settings.PORTAL_MASTER_KEY_FILE)
    raise MasterKeyError("no master key: set PORTAL_MASTER_KEY or PORTAL_MASTER_KEY_FILE")


@receiver(setting_changed)
def _forget_master_key(setting: str, **kwargs: object) -> None:
    if setting in ("PORTAL_MASTER_KEY", "PORTAL_MASTER_KEY_FILE"):
        current_master_key.cache_clear()
