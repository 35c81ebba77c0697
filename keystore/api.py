"""What the rest of the portal may ask of the keystore. Private keys go in here and never come back out, except
as the files a tenant administrator explicitly exports.
"""

import hashlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from . import envelope
from .keyfiles import KeyFileError, KeyFileInfo, inspect_key_file, load_private_key, spki_sha256
from .masterkey import current_master_key
from .models import KeystoreEntry, TenantKey

__all__ = [
    "KeyFileError",
    "KeyFileInfo",
    "KeystoreError",
    "inspect_key_file",
    "store_key_file",
    "store_private_key",
]


class KeystoreError(Exception):
    """The keystore cannot open what it stores: wrong master key, or data altered or moved. Never shown with
    key material; the message names the entry or tenant only."""


def _tenant_aad(tenant_id: Any) -> bytes:
    return b"tenant-data-key:" + str(tenant_id).encode()


def _entry_aad(tenant_id: Any, entry_id: Any, certificate_der: bytes) -> bytes:
    return b"keystore-entry:%s:%s:%s" % (
        str(tenant_id).encode(),
        str(entry_id).encode(),
        hashlib.sha256(certificate_der).hexdigest().encode(),
    )


@sensitive_variables("data_key", "master")
def _data_key(tenant: Any, *, create: bool) -> bytes:
    """The tenant's data key in plaintext, for one operation. Created on first use."""
    master = current_master_key()
    row = TenantKey.objects.filter(tenant=tenant).first()
    if row is None:
        if not create:
            raise KeystoreError(f"tenant {tenant.slug} has no keystore yet")
        data_key = envelope.new_key()
        try:
            with transaction.atomic():
                TenantKey.objects.create(
                    tenant=tenant,
                    wrapped_key=envelope.seal(master.key, data_key, _tenant_aad(tenant.pk)),
                    master_key_id=master.key_id,
                )
            return data_key
        except IntegrityError:  # created concurrently: use that one
            row = TenantKey.objects.get(tenant=tenant)
    if row.master_key_id != master.key_id:
        raise KeystoreError(
            f"the data key of tenant {tenant.slug} is wrapped with master key {row.master_key_id}, "
            f"but the configured master key is {master.key_id}"
        )
    try:
        return envelope.open_sealed(master.key, bytes(row.wrapped_key), _tenant_aad(tenant.pk))
    except envelope.TamperedError:
        raise KeystoreError(f"the data key of tenant {tenant.slug} does not open: altered or moved") from None


@sensitive_variables("private_key", "plaintext", "data_key")
def store_private_key(tenant: Any, *, alias: str, certificate_der: bytes, private_key: rsa.RSAPrivateKey) -> Any:
    """Seal and save one entry inside the caller's transaction. The key must belong to the certificate."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    public = certificate.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or spki_sha256(public) != spki_sha256(private_key.public_key()):
        raise KeyFileError("The private key does not belong to this certificate.")
    entry = KeystoreEntry(tenant=tenant, alias=alias, certificate_der=certificate_der)
    plaintext = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    data_key = _data_key(tenant, create=True)
    entry.sealed_private_key = envelope.seal(data_key, plaintext, _entry_aad(tenant.pk, entry.pk, certificate_der))
    entry.save()
    return entry


@sensitive_variables("key_data", "password", "private_key")
def store_key_file(tenant: Any, *, alias: str, certificate_der: bytes, key_data: bytes, password: str | None) -> Any:
    """Read an uploaded key file (with its password) and store it with its certificate."""
    private_key = load_private_key(key_data, password)
    return store_private_key(tenant, alias=alias, certificate_der=certificate_der, private_key=private_key)


@sensitive_variables("data_key", "plaintext")
def open_private_key(entry: KeystoreEntry) -> rsa.RSAPrivateKey:
    """For the keystore's own operations (export, backup, decryption). Callers outside keystore/ must not use it."""
    data_key = _data_key(entry.tenant, create=False)
    aad = _entry_aad(entry.tenant_id, entry.pk, bytes(entry.certificate_der))
    try:
        plaintext = envelope.open_sealed(data_key, bytes(entry.sealed_private_key), aad)
    except envelope.TamperedError:
        raise KeystoreError(
            f"the private key of keystore entry '{entry.alias}' does not open: altered or moved"
        ) from None
    # Validated when stored; skipping the (slow) RSA consistency check here is what keeps decryption fast.
    key = serialization.load_der_private_key(plaintext, password=None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key
