"""Sealing private keys under their tenant's data key, and opening them again, for the keystore's own operations.

Nothing here is for code outside keystore/: what the rest of the portal may ask is in ``api``.
"""

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from portal.accounts.models import Tenant

from . import envelope
from .aliases import check_alias
from .keyfiles import check_pair, spki_sha256
from .masterkey import MasterKeyError, MasterKeyProvider, current_master_key, master_key_by_id
from .models import KeystoreEntry, TenantKey


class KeystoreError(Exception):
    """The keystore cannot open what it stores: wrong master key, or data altered or moved. Never shown with
    key material; the message names the entry or tenant only."""


def tenant_aad(tenant_id: uuid.UUID) -> bytes:
    return b"tenant-data-key:" + str(tenant_id).encode()


def entry_aad(tenant_id: uuid.UUID, entry_id: uuid.UUID, certificate_der: bytes) -> bytes:
    return b"keystore-entry:%s:%s:%s" % (
        str(tenant_id).encode(),
        str(entry_id).encode(),
        hashlib.sha256(certificate_der).hexdigest().encode(),
    )


@contextmanager
def _master_key_usable() -> Iterator[None]:
    """Loading or calling a provider: one that is missing or fails meanwhile (a token gone, KMS down) is a
    KeystoreError naming it."""
    try:
        yield
    except MasterKeyError as exc:
        raise KeystoreError(f"The keystore master key is not usable: {exc}.") from None


def _current_master() -> MasterKeyProvider:
    with _master_key_usable():
        return current_master_key()


def _cached_tenant_key(tenant: Tenant) -> TenantKey | None:
    """The tenant's key row, from ``select_related("tenant__data_key")`` when the caller fetched it (one query
    fewer per decryption), else from the database."""
    if Tenant.data_key.is_cached(tenant):
        try:
            row: TenantKey = tenant.data_key
            return row
        except TenantKey.DoesNotExist:
            pass
    return TenantKey.objects.filter(tenant=tenant).first()


@sensitive_variables("data_key", "master", "found")
def _data_key(tenant: Tenant, *, create: bool) -> bytes:
    """The tenant's data key in plaintext, for one operation. Created on first use, under the current master key."""
    master = _current_master()
    row = _cached_tenant_key(tenant)
    if row is None:
        if not create:
            raise KeystoreError(f"tenant {tenant.slug} has no keystore yet")
        data_key = envelope.new_key()
        with _master_key_usable():
            wrapped = master.wrap(data_key, tenant_aad(tenant.pk))
        try:
            with transaction.atomic():
                TenantKey.objects.create(tenant=tenant, wrapped_key=wrapped, master_key_id=master.key_id)
            return data_key
        except IntegrityError:  # created concurrently: use that one
            row = TenantKey.objects.get(tenant=tenant)
    # Mid-rotation a data key may still be under the previous master key: it is found by its identifier.
    with _master_key_usable():  # the previous key's provider, asked for a key not rotated yet, may be down
        found = master_key_by_id(row.master_key_id)
    if found is None:
        raise KeystoreError(
            f"the data key of tenant {tenant.slug} is wrapped with master key {row.master_key_id}, "
            f"which is not configured (the current master key is {_current_master().key_id})"
        )
    try:
        with _master_key_usable():
            return found.unwrap(bytes(row.wrapped_key), tenant_aad(tenant.pk))
    except envelope.TamperedError:
        raise KeystoreError(f"the data key of tenant {tenant.slug} does not open: altered or moved") from None


@sensitive_variables("private_key", "plaintext", "data_key")
def store_private_key(
    tenant: Tenant,
    *,
    alias: str,
    certificate_der: bytes,
    private_key: rsa.RSAPrivateKey,
    data_key: bytes | None = None,
) -> KeystoreEntry:
    """Seal and save one entry inside the caller's transaction. The key must belong to the certificate and the alias
    obey the alias rule (``AliasError`` otherwise). ``data_key`` (``tenant_data_key(tenant, create=True)``) lets one
    operation storing many entries unwrap the tenant key once: one token or KMS request, not one per entry."""
    check_pair(spki_sha256(private_key.public_key()), certificate_der)
    alias = check_alias(tenant, alias)
    entry = KeystoreEntry(tenant=tenant, alias=alias, certificate_der=certificate_der)
    plaintext = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if data_key is None:
        data_key = _data_key(tenant, create=True)
    entry.sealed_private_key = envelope.seal(data_key, plaintext, entry_aad(tenant.pk, entry.pk, certificate_der))
    entry.save()
    return entry


@sensitive_variables("data_key", "plaintext", "key")
def open_private_key(entry: KeystoreEntry, *, data_key: bytes | None = None) -> rsa.RSAPrivateKey:
    """For the keystore's own operations (export, backup).

    ``data_key`` lets one operation over many entries of a tenant unwrap the tenant key once.
    """
    if data_key is None:
        data_key = _data_key(entry.tenant, create=False)
    aad = entry_aad(entry.tenant_id, entry.pk, bytes(entry.certificate_der))
    try:
        plaintext = envelope.open_sealed(data_key, bytes(entry.sealed_private_key), aad)
    except envelope.TamperedError:
        raise KeystoreError(
            f"the private key of keystore entry '{entry.alias}' does not open: altered or moved"
        ) from None
    # Validated when stored and authenticated by GCM just now; skipping the slow RSA consistency check is what
    # keeps decryption fast.
    key = serialization.load_der_private_key(plaintext, password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeystoreError(f"the private key of keystore entry '{entry.alias}' is not an RSA key")
    return key


def verify_entry(entry: KeystoreEntry) -> None:
    """The entry's private key opens; ``KeystoreError`` otherwise. The seal binds the certificate (its AAD), and
    ``store_private_key`` checked the pair before sealing, so a key that opens is the certificate's own."""
    open_private_key(entry)


def tenant_data_key(tenant: Tenant, *, create: bool = False) -> bytes:
    """The tenant's data key for a batch of ``open_private_key`` calls, or to seal other secrets with (``create``
    makes it on first use)."""
    return _data_key(tenant, create=create)
