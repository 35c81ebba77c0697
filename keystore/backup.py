"""Backups and key downloads: the only ways a private key leaves the keystore, each one audited.

- ``export_keystore``: every entry of a tenant (expired ones included) in one PKCS#12 file;
- ``export_private_key_pem``: one key as PKCS#8 PEM, in the clear ("private.pem") or encrypted;
- ``import_pkcs12``: restore a PKCS#12 file (ours, keytool's, OpenSSL's), all or nothing.
"""

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from portal.accounts.models import Tenant
from portal.audit.log import Actor, record
from portal.web.text import visible

from . import pfx, restore_budget
from .aliases import propose_alias
from .keyfiles import KeyFileError, check_pair, check_rsa_size, key_type_name, spki_sha256
from .models import KeystoreEntry, certificate_fingerprint
from .sealing import open_private_key, store_private_key, tenant_data_key

MIN_EXPORT_PASSWORD_LENGTH = 12
# Where the backup commands (export_keystore, restore_keystore) read the file's password unless told another name.
BACKUP_PASSWORD_VARIABLE = "PORTAL_KEYSTORE_PASSWORD"


class ImportFileError(ValueError):
    """The file cannot be restored (wrong password, damaged, unsupported); nothing was imported."""


class ImportTooLarge(ImportFileError):
    """The file asks for more work than this restore's budget allows; a larger budget (the command line) may read
    it. Nothing was imported, nothing derived."""


@dataclass
class ImportReport:
    """What a restore did. Names read from the file are written with ``visible``: a friendlyName is anyone's text."""

    imported: list[str] = field(default_factory=list)  # aliases as stored
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (alias in the file, reason)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # (alias in the file, alias as stored, why)
    derivations: int = 0  # key derivations from the password that reading the file took

    @property
    def summary(self) -> str:
        parts = [f"Imported {len(self.imported)} {'key' if len(self.imported) == 1 else 'keys'}"]
        if self.renamed:
            parts.append(f"{len(self.renamed)} under a new alias (each one's reason is listed)")
        if self.skipped:
            parts.append(f"skipped {len(self.skipped)}")
        return "; ".join(parts) + "."


@sensitive_variables("password")
def backup_password_from_environment(variable: str) -> str:
    """The backup password held in the environment variable ``variable``; ``ValueError`` saying where to set it
    when the variable is unset or empty."""
    password = os.environ.get(variable, "")
    if not password:
        raise ValueError(f"Set the backup password in the environment variable {variable}.")
    return password


def _check_export_password(password: str) -> None:
    if len(password) < MIN_EXPORT_PASSWORD_LENGTH:
        raise ValueError(f"The password must be at least {MIN_EXPORT_PASSWORD_LENGTH} characters long.")


@sensitive_variables("password", "entries", "data_key")
def export_keystore(tenant: Tenant, password: str, *, by: Actor, via: str = "web") -> tuple[bytes, int]:
    """The tenant's whole keystore as one PKCS#12 file, and the number of entries in it."""
    _check_export_password(password)
    stored = list(KeystoreEntry.objects.of_tenant(tenant).select_related("tenant").order_by("created", "alias"))
    data_key = tenant_data_key(tenant) if stored else b""
    entries = [
        pfx.PfxEntry(entry.alias, bytes(entry.certificate_der), open_private_key(entry, data_key=data_key))
        for entry in stored
    ]
    data = pfx.build_pfx(entries, password)
    with transaction.atomic():
        record(
            "keystore-exported",
            by=by,
            tenant=tenant,
            details={"entries": len(entries), "format": "PKCS#12", "via": via},
        )
    return data, len(entries)


@sensitive_variables("password", "private_key")
def export_private_key_pem(entry: KeystoreEntry, password: str | None, *, by: Actor) -> bytes:
    """One private key as PKCS#8 PEM: unencrypted when ``password`` is None, else encrypted with it."""
    if password is not None:
        _check_export_password(password)
    private_key = open_private_key(entry)
    if password is None:
        data = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    else:
        data = pfx.encrypted_pkcs8_pem(private_key, password)
    with transaction.atomic():
        record(
            "private-key-downloaded",
            by=by,
            tenant=entry.tenant,
            obj=entry,
            details={"alias": entry.alias, "format": "PKCS#8" if password is None else "encrypted PKCS#8"},
        )
    return data


def _unusable(key: pfx.PfxKey) -> str | None:
    """Why this key cannot become a recording key, or None when it can."""
    if not isinstance(key.private_key, rsa.RSAPrivateKey):
        return f"not an RSA key ({key_type_name(key.private_key)})"
    try:
        check_rsa_size(key.private_key.key_size)
    except KeyFileError as refused:
        return str(refused)
    if key.certificate_der is None:
        return "no certificate for this key in the file"
    try:
        check_pair(spki_sha256(key.private_key.public_key()), key.certificate_der)
    except KeyFileError:
        return "the key does not belong to its certificate"
    return None


@sensitive_variables("key")
def _restore_key(
    tenant: Tenant,
    key: pfx.PfxKey,
    seen: set[str],
    report: ImportReport,
    on_entry: Callable[[KeystoreEntry], None],
    data_key: Callable[[], bytes],
) -> None:
    """Store one key of the file (or say in ``report`` why it was skipped); ``seen``: the certificates stored so far."""
    reason = _unusable(key)
    if reason:
        report.skipped.append((visible(key.alias), reason))
        return
    assert key.certificate_der is not None and isinstance(key.private_key, rsa.RSAPrivateKey)
    fingerprint = certificate_fingerprint(key.certificate_der)
    if fingerprint in seen or KeystoreEntry.objects.of_tenant(tenant).with_certificate(key.certificate_der).exists():
        report.skipped.append((visible(key.alias), "already in the keystore"))
        return
    seen.add(fingerprint)
    proposed = propose_alias(tenant, key.alias)
    entry = store_private_key(
        tenant,
        alias=proposed.alias,
        certificate_der=key.certificate_der,
        private_key=key.private_key,
        data_key=data_key(),
    )
    on_entry(entry)
    report.imported.append(proposed.alias)
    if proposed.reasons:
        report.renamed.append((visible(key.alias), proposed.alias, "; ".join(proposed.reasons)))


@sensitive_variables("password", "contents", "data_key")
def import_pkcs12(
    tenant: Tenant,
    data: bytes,
    password: str,
    *,
    on_entry: Callable[[KeystoreEntry], None],
    by: Actor,
    budget: restore_budget.Budget | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Restore every key of a PKCS#12 file with its certificate, in one transaction.

    Entries whose certificate is already in the tenant's keystore are skipped; an alias the alias rule refuses is made
    to fit it, and one already in use gets a numbered one, each with its reason in the report. ``on_entry`` is called
    with each stored entry (the certificates app records its certificate); if it raises, nothing is imported and its
    exception propagates. A file that cannot be read raises ``ImportFileError`` with a message for the user; one
    asking for more work than ``budget`` (a web request's unless told otherwise) raises ``ImportTooLarge`` before any
    key is derived. ``progress``, when given, is called with (keys done, keys in the file) after each key is restored
    or skipped.
    """
    if not password:
        raise ImportFileError("Enter the keystore password.")
    try:
        contents = pfx.read_pfx(data, password, budget=budget)
    except pfx.PfxTooLarge as exc:
        raise ImportTooLarge(str(exc)) from None
    except pfx.PfxError as exc:
        raise ImportFileError(str(exc)) from None
    report = ImportReport(derivations=contents.derivations)
    # The tenant key is unwrapped once for the whole file, and only once a key is to be stored.
    data_key = functools.cache(lambda: tenant_data_key(tenant, create=True))
    with transaction.atomic():
        seen: set[str] = set()
        for done, key in enumerate(contents.keys, start=1):
            _restore_key(tenant, key, seen, report, on_entry, data_key)
            if progress is not None:
                progress(done, len(contents.keys))
        for name, _ in contents.certificates_without_key:
            report.skipped.append((visible(name), "certificate without a private key (a CA or chain certificate?)"))
        if report.imported:
            record(
                "keystore-imported",
                by=by,
                tenant=tenant,
                details={
                    "imported": report.imported,
                    "renamed": [list(item) for item in report.renamed],
                    "skipped": [list(item) for item in report.skipped],
                },
            )
    return report
