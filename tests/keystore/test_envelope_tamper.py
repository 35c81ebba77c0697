"""Stored keys open only for their own tenant, entry and certificate, under the right master key; anything else is
a KeystoreError with a clear message, never a crash or a wrong key."""

import base64

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.test import override_settings

from keystore import envelope
from keystore.api import AliasError, KeyFileError, KeystoreError
from keystore.masterkey import MasterKey
from keystore.models import KeystoreEntry, TenantKey
from keystore.sealing import open_private_key
from tests.keystore.helpers import certificate, der, pkcs8_der, rsa_key, store, store_key_file

OTHER_MASTER = base64.b64encode(b"O" * 32).decode()


def _reload(entry):
    return KeystoreEntry.objects.select_related("tenant").get(pk=entry.pk)


def same_key(a, b) -> bool:
    return a.private_numbers() == b.private_numbers()


def test_stored_key_round_trips(world):
    entry, key, _ = store(world.acme, "acme-2026")
    assert same_key(open_private_key(_reload(entry)), key)


def test_stored_key_file_round_trips_and_nothing_plain_is_stored(world):
    key = rsa_key(1)
    cert = certificate(key)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption())
    entry = store_key_file(world.acme, alias="acme", certificate_der=der(cert), key_data=pem, password=None)
    stored = _reload(entry)
    assert pkcs8_der(key) not in bytes(stored.sealed_private_key)
    assert same_key(open_private_key(stored), key)


def test_each_tenant_has_its_own_data_key(world):
    store(world.acme, "a", 0)
    store(world.globex, "g", 1)
    keys = list(TenantKey.objects.values_list("wrapped_key", flat=True))
    assert len(keys) == 2 and bytes(keys[0]) != bytes(keys[1])


def test_key_must_belong_to_certificate(world):
    from keystore.api import store_private_key

    with pytest.raises(KeyFileError, match="does not belong to this certificate"):
        store_private_key(world.acme, alias="x", certificate_der=der(certificate(rsa_key(0))), private_key=rsa_key(1))
    assert not KeystoreEntry.objects.exists()


def test_aliases_are_unique_per_tenant_without_case(world):
    store(world.acme, "Recording", 0)
    with pytest.raises(AliasError, match="already used"):
        store(world.acme, "recording", 1)
    store(world.globex, "recording", 1)  # another tenant may use it


def test_ciphertext_swapped_between_tenants_does_not_open(world):
    a, _, _ = store(world.acme, "same", 0)
    g, _, _ = store(world.globex, "same", 1)
    KeystoreEntry.objects.filter(pk=g.pk).update(sealed_private_key=bytes(a.sealed_private_key))
    with pytest.raises(KeystoreError, match="entry 'same' does not open: altered or moved"):
        open_private_key(_reload(g))


def test_ciphertext_swapped_between_entries_of_one_tenant_does_not_open(world):
    one, _, _ = store(world.acme, "one", 0)
    two, _, _ = store(world.acme, "two", 1)
    KeystoreEntry.objects.filter(pk=one.pk).update(sealed_private_key=bytes(two.sealed_private_key))
    with pytest.raises(KeystoreError, match="'one' does not open"):
        open_private_key(_reload(one))
    assert open_private_key(_reload(two))  # the other one is untouched


def test_certificate_swapped_under_a_sealed_key_does_not_open(world):
    entry, key, _ = store(world.acme, "one", 0)
    other = der(certificate(key, "a different certificate for the same key"))
    KeystoreEntry.objects.filter(pk=entry.pk).update(certificate_der=other)
    with pytest.raises(KeystoreError, match="altered or moved"):
        open_private_key(_reload(entry))


def test_tenant_data_key_swapped_between_tenants_does_not_open(world):
    a, _, _ = store(world.acme, "a", 0)
    store(world.globex, "g", 1)
    acme_key = TenantKey.objects.get(tenant=world.acme)
    TenantKey.objects.filter(tenant=world.globex).update(wrapped_key=bytes(acme_key.wrapped_key))
    g = KeystoreEntry.objects.get(tenant=world.globex)
    with pytest.raises(KeystoreError, match="data key of tenant globex does not open"):
        open_private_key(_reload(g))
    assert open_private_key(_reload(a))


@pytest.mark.parametrize("cut", [0, 1, 12, 28, -1, -16])
def test_truncated_entry_blob_does_not_open(world, cut):
    entry, _, _ = store(world.acme, "one", 0)
    blob = bytes(entry.sealed_private_key)
    KeystoreEntry.objects.filter(pk=entry.pk).update(sealed_private_key=blob[:cut])
    with pytest.raises(KeystoreError, match="'one' does not open"):
        open_private_key(_reload(entry))


@pytest.mark.parametrize("where", ["version", "nonce", "ciphertext", "tag"])
def test_bit_flipped_entry_blob_does_not_open(world, where):
    entry, _, _ = store(world.acme, "one", 0)
    blob = bytearray(entry.sealed_private_key)
    position = {"version": 0, "nonce": 5, "ciphertext": 200, "tag": len(blob) - 3}[where]
    blob[position] ^= 0x01
    KeystoreEntry.objects.filter(pk=entry.pk).update(sealed_private_key=bytes(blob))
    with pytest.raises(KeystoreError, match="'one' does not open"):
        open_private_key(_reload(entry))


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_wrapped_tenant_key_does_not_open(world, damage):
    entry, _, _ = store(world.acme, "one", 0)
    row = TenantKey.objects.get(tenant=world.acme)
    blob = bytearray(row.wrapped_key)
    if damage == "flip":
        blob[20] ^= 0x80
    else:
        blob = blob[:-5]
    TenantKey.objects.filter(pk=row.pk).update(wrapped_key=bytes(blob))
    with pytest.raises(KeystoreError, match="data key of tenant acme does not open"):
        open_private_key(_reload(entry))


def test_wrong_master_key_is_named_not_tried(world):
    entry, _, _ = store(world.acme, "one", 0)
    stored_id = TenantKey.objects.get(tenant=world.acme).master_key_id
    other_id = MasterKey.from_text(OTHER_MASTER, "test").key_id
    with override_settings(PORTAL_MASTER_KEY=OTHER_MASTER), pytest.raises(KeystoreError) as excinfo:
        open_private_key(_reload(entry))
    message = str(excinfo.value)
    assert stored_id in message and other_id in message and "not configured" in message


def test_forged_master_key_id_still_does_not_open(world):
    """The identifier is only a hint: a row claiming the current key's id but wrapped otherwise fails to open."""
    entry, _, _ = store(world.acme, "one", 0)
    row = TenantKey.objects.get(tenant=world.acme)
    other = MasterKey.from_text(OTHER_MASTER, "test")
    forged = envelope.seal(other.key, envelope.new_key(), b"tenant-data-key:" + str(world.acme.pk).encode())
    TenantKey.objects.filter(pk=row.pk).update(wrapped_key=forged)
    with pytest.raises(KeystoreError, match="does not open"):
        open_private_key(_reload(entry))


def test_missing_master_key_is_a_keystore_error(world):
    entry, _, _ = store(world.acme, "one", 0)
    no_key = override_settings(PORTAL_MASTER_KEY="", PORTAL_MASTER_KEY_FILE="")
    with no_key, pytest.raises(KeystoreError, match="master key is not usable: no master key"):
        open_private_key(_reload(entry))


def test_a_previous_provider_that_is_down_is_a_keystore_error(world):
    entry, _, _ = store(world.acme, "one", 0)
    previous_token = {
        "PORTAL_PREVIOUS_MASTER_KEY_PKCS11_MODULE": "/nonexistent/libpkcs11.so",
        "PORTAL_PREVIOUS_MASTER_KEY_PKCS11_TOKEN_LABEL": "old",
        "PORTAL_PREVIOUS_MASTER_KEY_PKCS11_PIN": "1234",
        "PORTAL_PREVIOUS_MASTER_KEY_PKCS11_KEY_LABEL": "master",
    }
    with override_settings(PORTAL_MASTER_KEY=OTHER_MASTER, **previous_token):
        with pytest.raises(KeystoreError, match="master key is not usable: PKCS#11 module /nonexistent/libpkcs11.so"):
            open_private_key(_reload(entry))
        store(world.globex, "g", 1)  # keys under the current master key are unaffected


def test_previous_master_key_opens_keys_not_rotated_yet(world):
    entry, key, _ = store(world.acme, "one", 0)
    old = base64.b64encode(b"T" * 32).decode()  # the test settings' key
    with override_settings(PORTAL_MASTER_KEY=OTHER_MASTER, PORTAL_PREVIOUS_MASTER_KEY=old):
        assert same_key(open_private_key(_reload(entry)), key)
        # a tenant created meanwhile gets its data key under the current (new) key
        store(world.globex, "g", 1)
        assert TenantKey.objects.get(tenant=world.globex).master_key_id == MasterKey.from_text(OTHER_MASTER, "t").key_id


def test_decryption_needs_one_query_when_the_tenant_key_is_fetched_with_the_entry(world, django_assert_num_queries):
    entry, key, _ = store(world.acme, "one", 0)
    with django_assert_num_queries(1):
        fetched = KeystoreEntry.objects.select_related("tenant__data_key").get(pk=entry.pk)
        assert same_key(open_private_key(fetched), key)
