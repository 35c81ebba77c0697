"""AES-256-GCM sealing with associated data. The format is the contract; Django only marks the secret variables so
an error report never shows them.

A sealed blob is ``version (1 byte) || nonce (12 bytes) || ciphertext+tag``. The associated data names what the blob
belongs to, so a blob copied to another row or tenant does not open.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.views.decorators.debug import sensitive_variables

VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32


class TamperedError(Exception):
    """The blob does not open with this key for this owner: wrong key, moved, truncated or altered."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


@sensitive_variables("key", "plaintext")
def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return bytes([VERSION]) + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


@sensitive_variables("key")
def open_sealed(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != VERSION:
        raise TamperedError("sealed blob is truncated or of an unknown version")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise TamperedError("sealed blob does not authenticate for this key and owner") from None
