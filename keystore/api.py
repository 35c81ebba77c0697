"""What the rest of the portal may ask of the keystore. Private keys go in here and never come back out, except
as the files a tenant administrator explicitly exports (see backup.py).

A key file is opened once per request with ``open_key_file``; the handle it returns describes the key and is what
``store`` seals, so an encrypted key's password is derived once, and the key never reaches the caller.
"""

from django.views.decorators.debug import sensitive_variables

from portal.accounts.models import Tenant

from . import keyfiles
from .aliases import (
    ALIAS_TOO_LONG,
    AliasError,
    ProposedAlias,
    check_alias,
    fitting_alias,
    numbered,
    propose_alias,
    unused_alias,
)
from .backup import (
    BACKUP_PASSWORD_VARIABLE,
    ImportFileError,
    ImportReport,
    ImportTooLarge,
    backup_password_from_environment,
    export_keystore,
    import_pkcs12,
)
from .csr import attach_certificate, generate_for_request, signing_request
from .generation import (
    DEFAULT_GENERATED_BITS,
    GENERATED_RSA_BITS,
    KEY_HOLDER,
    OPENSSL_REQ,
    SelfSigned,
    generate_key,
    store_bare_key,
)
from .kdf import MAX_ROUNDS as MAX_KDF_ROUNDS
from .keyfiles import MAX_RSA_BITS, MIN_RSA_BITS, KeyFileError, KeyFileInfo, KeyPasswordError, OpenedKeyFile
from .lifecycle import EntryGone, purge_entry
from .masterkeys.health import master_key_health as _master_key_health
from .models import MAX_ALIAS_LENGTH, KeystoreEntry
from .pfx import MAX_PFX_BYTES as MAX_BACKUP_BYTES
from .proofs import record_proof
from .recipients import RecipientIndex
from .restore_budget import COMMAND_RESTORE, WEB_RESTORE, Budget
from .sealing import KeystoreError, store_private_key
from .sealing import verify_entry as _verify_entry
from .secrets import open_secret, seal_secret
from .unwrap import SessionKeyError, SessionKeyOpener, SessionKeyPadding

__all__ = [
    "ALIAS_TOO_LONG",
    "BACKUP_PASSWORD_VARIABLE",
    "COMMAND_RESTORE",
    "DEFAULT_GENERATED_BITS",
    "GENERATED_RSA_BITS",
    "KEY_HOLDER",
    "MAX_ALIAS_LENGTH",
    "MAX_BACKUP_BYTES",
    "MAX_KDF_ROUNDS",
    "MAX_RSA_BITS",
    "MIN_RSA_BITS",
    "OPENSSL_REQ",
    "WEB_RESTORE",
    "AliasError",
    "Budget",
    "EntryGone",
    "ImportFileError",
    "ImportReport",
    "ImportTooLarge",
    "KeyFileError",
    "KeyFileInfo",
    "KeyPasswordError",
    "KeystoreEntry",
    "KeystoreError",
    "OpenedKeyFile",
    "ProposedAlias",
    "RecipientIndex",
    "SelfSigned",
    "SessionKeyError",
    "SessionKeyOpener",
    "SessionKeyPadding",
    "attach_certificate",
    "backup_password_from_environment",
    "check_alias",
    "describe_key_file",
    "export_keystore",
    "fitting_alias",
    "generate_for_request",
    "generate_key",
    "import_pkcs12",
    "numbered",
    "open_key_file",
    "open_secret",
    "propose_alias",
    "purge_entry",
    "record_proof",
    "seal_secret",
    "signing_request",
    "store",
    "store_bare_key",
    "store_private_key",
    "unused_alias",
    "verify_entry",
]


# Every local of these calls and of what they call is masked on error pages: the key file, its password and the key.
@sensitive_variables()
def describe_key_file(data: bytes) -> KeyFileInfo:
    """What the file is, without a password: for "Key Details" as soon as a file is chosen. ``KeyFileError`` when
    it is not a usable private key."""
    return keyfiles.describe_key_file(data)


@sensitive_variables()
def open_key_file(data: bytes, password: str | None) -> OpenedKeyFile:
    """Read a key file once, with its password when it is encrypted. ``KeyPasswordError`` when the password is
    missing or wrong, ``KeyFileError`` for anything else about the file."""
    return keyfiles.open_key_file(data, password)


@sensitive_variables()
def store(tenant: Tenant, *, alias: str, certificate_der: bytes, key: OpenedKeyFile) -> KeystoreEntry:
    """Seal the opened key with its certificate under ``alias``, inside the caller's transaction. ``KeyFileError``
    when the key does not belong to the certificate, ``AliasError`` when the alias breaks the alias rule."""
    return store_private_key(
        tenant, alias=alias, certificate_der=certificate_der, private_key=keyfiles.private_key_of(key)
    )


@sensitive_variables()
def verify_entry(entry: KeystoreEntry) -> None:
    """Open the entry's sealed private key, keeping nothing of it: whether recordings for its certificate can still
    be played back. ``KeystoreError`` when it does not open (altered, moved to another certificate or tenant, or its
    master key is gone)."""
    _verify_entry(entry)


def master_key_health() -> tuple[bool, str]:
    """Whether the current master-key provider answers, for a health endpoint: (ok, one line naming the provider kind
    and what failed, e.g. "PKCS#11 token 'portal': wrong PIN (…)"). It reaches the token or KMS for real, answers
    within a few seconds, and never reveals a secret."""
    return _master_key_health()


__all__ += ["master_key_health"]
