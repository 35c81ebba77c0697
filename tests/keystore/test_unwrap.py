"""``keystore.api.SessionKeyOpener``: a recording's session key, encrypted to a stored
certificate as the recording platform encrypts it, comes back out; nothing else about the key does."""

import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from keystore import api, sealing
from keystore.models import KeystoreEntry
from tests.keystore.helpers import secret_forms, store

PADDINGS = {
    api.SessionKeyPadding.PKCS1V15: padding.PKCS1v15(),
    api.SessionKeyPadding.OAEP_SHA1: padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None),
    api.SessionKeyPadding.OAEP_SHA256: padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None),
}
OAEP = [api.SessionKeyPadding.OAEP_SHA1, api.SessionKeyPadding.OAEP_SHA256]


def reloaded(entry: KeystoreEntry) -> KeystoreEntry:
    return KeystoreEntry.objects.get(pk=entry.pk)


def wrapped(cert: x509.Certificate, session_key: bytes, kind: api.SessionKeyPadding) -> bytes:
    """The session key as an envelope's recipient holds it: encrypted with the certificate's public key."""
    public_key = cert.public_key()
    return public_key.encrypt(session_key, PADDINGS[kind])  # type: ignore[union-attr]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(api.SessionKeyPadding), ids=str)
@pytest.mark.parametrize("length", [16, 24, 32])
def test_a_session_key_comes_back_with_each_padding(world, kind, length) -> None:
    entry, _, cert = store(world.acme, "acme-2026")
    session_key = os.urandom(length)
    assert (
        api.SessionKeyOpener(world.acme).unwrap(reloaded(entry), wrapped(cert, session_key, kind), kind) == session_key
    )


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(api.SessionKeyPadding), ids=str)
def test_an_opener_unwraps_with_each_entry_of_its_tenant(world, kind) -> None:
    first, _, first_cert = store(world.acme, "acme-2026", 0)
    second, _, second_cert = store(world.acme, "acme-2019", 1, expired=True)
    opener = api.SessionKeyOpener(world.acme)
    for _ in range(3):
        for entry, cert in ((first, first_cert), (second, second_cert)):
            session_key = os.urandom(32)
            assert opener.unwrap(reloaded(entry), wrapped(cert, session_key, kind), kind) == session_key


@pytest.mark.django_db
def test_an_opener_opens_each_private_key_once(world, monkeypatch) -> None:
    entry, _, cert = store(world.acme, "acme-2026")
    opened = []
    real_open = sealing.open_private_key

    def counting_open(item, **kwargs):
        opened.append(item.alias)
        return real_open(item, **kwargs)

    monkeypatch.setattr("keystore.unwrap.open_private_key", counting_open)
    opener = api.SessionKeyOpener(world.acme)
    kind = api.SessionKeyPadding.OAEP_SHA256
    for _ in range(5):
        session_key = os.urandom(32)
        assert opener.unwrap(reloaded(entry), wrapped(cert, session_key, kind), kind) == session_key
    assert opened == ["acme-2026"]


@pytest.mark.django_db
def test_an_opener_refuses_another_tenants_entry(world) -> None:
    theirs, _, cert = store(world.globex, "globex-2026")
    kind = api.SessionKeyPadding.OAEP_SHA256
    with pytest.raises(api.KeystoreError, match="not an entry of tenant acme"):
        api.SessionKeyOpener(world.acme).unwrap(reloaded(theirs), wrapped(cert, os.urandom(32), kind), kind)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", OAEP, ids=str)
def test_another_entrys_key_does_not_open_it(world, kind) -> None:
    _, _, cert = store(world.acme, "acme-2026", 0)
    other, _, _ = store(world.acme, "acme-2027", 1)
    encrypted = wrapped(cert, os.urandom(32), kind)
    message = "the private key of 'acme-2027' does not open this recording's session key"
    with pytest.raises(api.SessionKeyError, match=message):
        api.SessionKeyOpener(world.acme).unwrap(reloaded(other), encrypted, kind)


@pytest.mark.django_db
def test_another_entrys_key_never_yields_the_session_key_with_pkcs1v15(world) -> None:
    """PKCS#1 v1.5 may answer a wrong key with unrelated bytes (implicit rejection) instead of an error: whichever
    it does, the session key does not come out, and the caller's length check refuses what does."""
    _, _, cert = store(world.acme, "acme-2026", 0)
    other, _, _ = store(world.acme, "acme-2027", 1)
    session_key = os.urandom(32)
    kind = api.SessionKeyPadding.PKCS1V15
    try:
        result = api.SessionKeyOpener(world.acme).unwrap(reloaded(other), wrapped(cert, session_key, kind), kind)
    except api.SessionKeyError:
        return
    assert result != session_key


@pytest.mark.django_db
@pytest.mark.parametrize("change", [-1, 1, -256], ids=["short", "long", "empty"])
def test_an_encrypted_key_of_the_wrong_length_is_refused(world, change) -> None:
    entry, _, cert = store(world.acme, "acme-2026")
    kind = api.SessionKeyPadding.OAEP_SHA256
    encrypted = wrapped(cert, os.urandom(32), kind)
    damaged = encrypted[:change] if change < 0 else encrypted + b"\0"
    with pytest.raises(api.SessionKeyError, match=rf"is {len(damaged)} bytes, but the private key of 'acme-2026'"):
        api.SessionKeyOpener(world.acme).unwrap(reloaded(entry), damaged, kind)


@pytest.mark.django_db
def test_a_damaged_sealed_key_is_named(world) -> None:
    entry, _, cert = store(world.acme, "acme-2026")
    sealed = bytearray(entry.sealed_private_key)
    sealed[len(sealed) // 2] ^= 0xFF
    KeystoreEntry.objects.filter(pk=entry.pk).update(sealed_private_key=bytes(sealed))
    kind = api.SessionKeyPadding.OAEP_SHA256
    encrypted = wrapped(cert, os.urandom(32), kind)
    with pytest.raises(api.KeystoreError, match="'acme-2026' does not open: altered or moved") as raised:
        api.SessionKeyOpener(world.acme).unwrap(reloaded(entry), encrypted, kind)
    assert not isinstance(raised.value, api.SessionKeyError)


@pytest.mark.django_db
def test_an_opener_shows_nothing_of_its_keys(world) -> None:
    entry, key, cert = store(world.acme, "acme-2026")
    opener = api.SessionKeyOpener(world.acme)
    kind = api.SessionKeyPadding.PKCS1V15
    opener.unwrap(reloaded(entry), wrapped(cert, os.urandom(32), kind), kind)
    shown = repr(opener).encode()
    assert b"tenant acme" in shown
    assert not [name for name, needle in secret_forms(key).items() if needle in shown]
