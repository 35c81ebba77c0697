"""The master key wraps the tenants' data keys and is never stored in the database; only its identifier is, next to
each wrapped key, so a wrong master key is recognised before anything is decrypted.

It lives in a file, an environment variable, a PKCS#11 token or AWS KMS (``masterkeys``). During a rotation the portal
also knows the previous master key: new data keys are wrapped with the current key, data keys not re-wrapped yet are
still opened with the previous one, looked up by the identifier stored with them.
"""

from .masterkeys.base import MasterKeyError, MasterKeyProvider, MasterKeyUnavailable
from .masterkeys.files import MasterKey, read_master_key_file
from .masterkeys.loading import current_master_key, forget_master_keys, master_key_by_id, previous_master_key

__all__ = [
    "MasterKey",
    "MasterKeyError",
    "MasterKeyProvider",
    "MasterKeyUnavailable",
    "current_master_key",
    "forget_master_keys",
    "master_key_by_id",
    "previous_master_key",
    "read_master_key_file",
]
