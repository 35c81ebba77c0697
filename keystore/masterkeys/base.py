"""What every master-key provider offers, and the errors they raise.

A provider wraps and unwraps the tenants' data keys. Only its identifier is stored, next to each wrapped key, so the
portal knows which provider opens a key before it tries, and recognises a different key under the same name.
"""

import hashlib
import hmac
from typing import Protocol

# Stored in TenantKey.master_key_id: 16 hex digits.
ID_LENGTH = 16
# Fixed input of the identifier derivation: a MAC of it under the key names the key without revealing it.
ID_LABEL = b"recording-portal master key id"


class MasterKeyError(Exception):
    """The master key is missing or its settings are malformed. The message says which setting to fix."""


class MasterKeyUnavailable(MasterKeyError):
    """The configured provider cannot be used now: its module, token, key or service is missing, unreachable or
    refuses (a wrong PIN, a disabled KMS key). The message is one line naming the provider and what failed."""


class MasterKeyProvider(Protocol):
    """One master key. ``unwrap`` raises ``envelope.TamperedError`` when the blob was not wrapped by this key for
    this owner, and ``MasterKeyUnavailable`` when the provider cannot be reached."""

    @property
    def key_id(self) -> str: ...

    def wrap(self, data_key: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes: ...

    def describe(self) -> str:
        """One line naming the provider and the key, never a secret (e.g. "PKCS#11 token 'portal' key 'master'")."""
        ...

    def probe(self) -> str:
        """Reach the key for real (cheaply) and say so in one line without secrets or paths, for a health check;
        ``MasterKeyUnavailable`` otherwise."""
        ...

    def close(self) -> None:
        """Release what the provider holds open (a token session); it reopens on next use."""
        ...


def mac_key_id(key: bytes) -> str:
    """The identifier of a key held in memory (file and environment providers)."""
    return hmac.new(key, ID_LABEL, hashlib.sha256).hexdigest()[:ID_LENGTH]


def one_line(text: str) -> str:
    """Library messages can span lines; checks and errors print one."""
    return " ".join(str(text).split())
