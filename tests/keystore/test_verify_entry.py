"""``keystore.api.verify_entry``: whether a stored key still opens for its certificate, the question behind "can
these recordings still be played back", answered without the key leaving the keystore."""

import base64

import pytest
from django.test import override_settings

from keystore import api
from keystore.models import KeystoreEntry
from tests.keystore.helpers import certificate, der, rsa_key, store

OTHER_MASTER_KEY = base64.b64encode(b"O" * 32).decode()


def reloaded(entry: KeystoreEntry) -> KeystoreEntry:
    return KeystoreEntry.objects.select_related("tenant").get(pk=entry.pk)


@pytest.mark.django_db
def test_a_stored_key_verifies(world) -> None:
    first, _, _ = store(world.acme, "acme-2026", 0)
    second, _, _ = store(world.acme, "acme-2027", 1)
    for entry in (first, second):
        assert api.verify_entry(reloaded(entry)) is None


@pytest.mark.django_db
@pytest.mark.parametrize("where", [0, -1], ids=["first-byte", "last-byte"])
def test_an_altered_sealed_key_is_reported(world, where) -> None:
    entry, _, _ = store(world.acme, "acme-2026")
    sealed = bytearray(entry.sealed_private_key)
    sealed[where] ^= 0x01
    KeystoreEntry.objects.filter(pk=entry.pk).update(sealed_private_key=bytes(sealed))
    with pytest.raises(api.KeystoreError, match="'acme-2026'"):
        api.verify_entry(reloaded(entry))


@pytest.mark.django_db
def test_a_key_moved_to_another_certificate_is_reported(world) -> None:
    entry, _, _ = store(world.acme, "acme-2026", 0)
    other = der(certificate(rsa_key(1), "someone else"))
    KeystoreEntry.objects.filter(pk=entry.pk).update(certificate_der=other)
    with pytest.raises(api.KeystoreError, match="'acme-2026'"):
        api.verify_entry(reloaded(entry))


@pytest.mark.django_db
def test_a_key_whose_master_key_is_gone_is_reported(world) -> None:
    entry, _, _ = store(world.acme, "acme-2026")
    gone = override_settings(PORTAL_MASTER_KEY=OTHER_MASTER_KEY, PORTAL_PREVIOUS_MASTER_KEY="")
    with gone, pytest.raises(api.KeystoreError):
        api.verify_entry(reloaded(entry))
    api.verify_entry(reloaded(entry))  # with its master key back, it opens again
