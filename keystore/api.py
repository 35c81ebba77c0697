"""What the rest of the portal may ask of the keystore. Private keys go in here and never come back out, except
as the files a tenant administrator explicitly exports (see backup.py).
"""

from django.views.decorators.debug import sensitive_variables

from portal.accounts.models import Tenant

from .aliases import ALIAS_TOO_LONG, AliasError, check_alias, unused_alias
from .keyfiles import MIN_RSA_BITS, KeyFileError, KeyFileInfo, describe_key_file, inspect_key_file, load_private_key
from .models import MAX_ALIAS_LENGTH, KeystoreEntry
from .sealing import KeystoreError, store_private_key

__all__ = [
    "ALIAS_TOO_LONG",
    "MAX_ALIAS_LENGTH",
    "MIN_RSA_BITS",
    "AliasError",
    "KeyFileError",
    "KeyFileInfo",
    "KeystoreEntry",
    "KeystoreError",
    "check_alias",
    "describe_key_file",
    "inspect_key_file",
    "store_key_file",
    "store_private_key",
    "unused_alias",
]


@sensitive_variables("key_data", "password", "private_key")
def store_key_file(
    tenant: Tenant, *, alias: str, certificate_der: bytes, key_data: bytes, password: str | None
) -> KeystoreEntry:
    """Read an uploaded key file (with its password) and store it with its certificate."""
    private_key = load_private_key(key_data, password)
    return store_private_key(tenant, alias=alias, certificate_der=certificate_der, private_key=private_key)
