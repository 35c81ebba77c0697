"""Unwrapping a recording's session key with a stored private key: the one use of a private key for playback.

A recording's envelope carries its AES session key encrypted to the tenant's certificate. The private key opens it
here and only the session key goes back to the caller, which decrypts the content with it.
"""

import uuid
from enum import StrEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from django.views.decorators.debug import sensitive_variables

from portal.accounts.models import Tenant

from .models import KeystoreEntry
from .sealing import KeystoreError, open_private_key, tenant_data_key

# Opened keys kept by one opener: a batch rarely uses more than a tenant's few current and archived keys.
MAX_OPEN_KEYS = 32


class SessionKeyPadding(StrEnum):
    """How the session key was encrypted to the certificate (the envelope's key transport algorithm). OAEP uses
    MGF1 with the same hash and no label, as openssl and the recording platform write it."""

    PKCS1V15 = "pkcs1v15"
    OAEP_SHA1 = "oaep-sha1"
    OAEP_SHA256 = "oaep-sha256"


class SessionKeyError(KeystoreError):
    """The entry's private key does not open this encrypted session key."""


def _padding(padding: SessionKeyPadding) -> rsa_padding.AsymmetricPadding:
    if padding is SessionKeyPadding.PKCS1V15:
        return rsa_padding.PKCS1v15()
    algorithm: hashes.HashAlgorithm = hashes.SHA256()
    if padding is SessionKeyPadding.OAEP_SHA1:
        algorithm = hashes.SHA1()  # noqa: S303 - RFC 3560's default OAEP hash: a key transport, not a signature
    return rsa_padding.OAEP(mgf=rsa_padding.MGF1(algorithm), algorithm=algorithm, label=None)


@sensitive_variables("key", "session_key")
def _unwrap(key: rsa.RSAPrivateKey, alias: str, encrypted_key: bytes, padding: SessionKeyPadding) -> bytes:
    scheme = _padding(SessionKeyPadding(padding))  # ValueError for a name that is none of them: a caller's bug
    size = (key.key_size + 7) // 8
    if len(encrypted_key) != size:  # checked before any RSA work: the envelope's length is the sender's word
        raise SessionKeyError(
            f"the encrypted session key is {len(encrypted_key)} bytes, but the private key of '{alias}' "
            f"opens {size}-byte keys only"
        )
    try:
        session_key = key.decrypt(encrypted_key, scheme)
    except ValueError:
        raise SessionKeyError(f"the private key of '{alias}' does not open this recording's session key") from None
    # PKCS#1 v1.5 under implicit rejection gives random bytes instead of an error: the caller checks their length
    # against the cipher's.
    return session_key


class SessionKeyOpener:
    """Unwraps the session keys of one tenant's batch of recordings: the tenant's data key is opened once and each
    entry's private key once, instead of once per recording. Both stay inside this object; only session keys come
    out. Make one per batch and drop it afterwards."""

    __slots__ = ("_data_key", "_keys", "_tenant")

    def __init__(self, tenant: Tenant) -> None:
        self._tenant = tenant
        self._data_key: bytes | None = None
        self._keys: dict[uuid.UUID, rsa.RSAPrivateKey] = {}

    def __repr__(self) -> str:
        return f"<SessionKeyOpener of tenant {self._tenant.slug}>"

    @sensitive_variables("key", "data_key")
    def _key(self, entry: KeystoreEntry) -> rsa.RSAPrivateKey:
        if entry.tenant_id != self._tenant.pk:
            raise KeystoreError(f"keystore entry '{entry.alias}' is not an entry of tenant {self._tenant.slug}")
        key = self._keys.pop(entry.pk, None)
        if key is None:
            if self._data_key is None:
                self._data_key = tenant_data_key(self._tenant)
            key = open_private_key(entry, data_key=self._data_key)
            if len(self._keys) >= MAX_OPEN_KEYS:
                del self._keys[next(iter(self._keys))]  # the least recently used
        self._keys[entry.pk] = key  # re-inserted: the most recently used last
        return key

    @sensitive_variables("key")
    def unwrap(self, entry: KeystoreEntry, encrypted_key: bytes, padding: SessionKeyPadding) -> bytes:
        """The session key ``encrypted_key`` holds, opened with the private key of ``entry``, an entry of this
        opener's tenant. ``SessionKeyError`` when the key does not open it (or its length does not fit the key),
        ``KeystoreError`` when the entry's sealed key does not open (damaged, moved, its master key gone) or the entry
        is another tenant's."""
        key = self._key(entry)
        return _unwrap(key, entry.alias, encrypted_key, padding)
