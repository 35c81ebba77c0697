"""Secrets the portal must read back (the Local Key Manager's Hawk keys): sealed under the tenant's data key, and
bound to the tenant, purpose and name they were sealed for."""

import base64
import os

import pytest
from django.test import override_settings

from keystore import api
from keystore.models import TenantKey

SECRET = b"hawk-key-" + base64.urlsafe_b64encode(os.urandom(32))
OTHER_MASTER_KEY = base64.b64encode(b"O" * 32).decode()


def sealed(tenant, secret: bytes = SECRET, *, purpose: str = "lkm-hawk-key", name: str = "credential-1") -> bytes:
    return api.seal_secret(tenant, purpose=purpose, name=name, secret=secret)


def test_a_sealed_secret_opens_again(world) -> None:
    blob = sealed(world.acme)
    assert api.open_secret(world.acme, purpose="lkm-hawk-key", name="credential-1", sealed=blob) == SECRET


@pytest.mark.parametrize("secret", [b"", b"\x00" * 32, os.urandom(4096)], ids=["empty", "zeros", "4-KiB"])
def test_any_bytes_round_trip(world, secret: bytes) -> None:
    blob = sealed(world.acme, secret)
    assert api.open_secret(world.acme, purpose="lkm-hawk-key", name="credential-1", sealed=blob) == secret


def test_the_sealed_form_hides_the_secret_and_differs_each_time(world) -> None:
    first, second = sealed(world.acme), sealed(world.acme)
    assert first != second
    for blob in (first, second):
        assert SECRET not in blob and SECRET[9:25] not in blob
        assert base64.b64encode(SECRET)[:16] not in blob and SECRET.hex().encode()[:32] not in blob


def test_sealing_makes_the_tenants_data_key_once(world) -> None:
    assert not TenantKey.objects.filter(tenant=world.acme).exists()
    sealed(world.acme)
    sealed(world.acme, name="credential-2")
    assert TenantKey.objects.filter(tenant=world.acme).count() == 1
    assert not TenantKey.objects.filter(tenant=world.globex).exists()


@pytest.mark.parametrize(
    "tenant,purpose,name",
    [
        ("globex", "lkm-hawk-key", "credential-1"),
        ("acme", "other-purpose", "credential-1"),
        ("acme", "lkm-hawk-key", "credential-2"),
        ("acme", "lkm-hawk", "key:credential-1"),
    ],
    ids=["other-tenant", "other-purpose", "other-name", "purpose-and-name-split-elsewhere"],
)
def test_a_moved_secret_does_not_open(world, tenant: str, purpose: str, name: str) -> None:
    blob = sealed(world.acme)
    sealed(world.globex, b"globex's own")  # globex has a data key of its own
    with pytest.raises(api.KeystoreError) as raised:
        api.open_secret(getattr(world, tenant), purpose=purpose, name=name, sealed=blob)
    assert SECRET.decode() not in str(raised.value)


def test_a_purpose_and_name_split_at_another_colon_name_another_secret(world) -> None:
    """Sealed as purpose "lkm-hawk-key", name "credential:1"; asked for as purpose "lkm-hawk-key:credential",
    name "1": the same words, another secret. A purpose with a colon is refused outright."""
    blob = sealed(world.acme, name="credential:1")
    assert api.open_secret(world.acme, purpose="lkm-hawk-key", name="credential:1", sealed=blob) == SECRET
    with pytest.raises(ValueError):
        api.open_secret(world.acme, purpose="lkm-hawk-key:credential", name="1", sealed=blob)
    with pytest.raises(ValueError):
        sealed(world.acme, purpose="lkm-hawk-key:credential", name="1")


def test_the_refusal_names_the_secret_not_its_value(world) -> None:
    blob = sealed(world.acme)
    with pytest.raises(api.KeystoreError) as raised:
        api.open_secret(world.acme, purpose="lkm-hawk-key", name="credential-2", sealed=blob)
    assert str(raised.value) == "the lkm-hawk-key secret 'credential-2' of tenant acme does not open"


@pytest.mark.parametrize("where", [0, 1, 13, -1], ids=["version", "nonce", "ciphertext", "tag"])
def test_an_altered_secret_does_not_open(world, where: int) -> None:
    blob = bytearray(sealed(world.acme))
    blob[where] ^= 0x01
    with pytest.raises(api.KeystoreError):
        api.open_secret(world.acme, purpose="lkm-hawk-key", name="credential-1", sealed=bytes(blob))


@pytest.mark.parametrize("length", [0, 1, 13, 28])
def test_a_truncated_secret_does_not_open(world, length: int) -> None:
    blob = sealed(world.acme)
    with pytest.raises(api.KeystoreError):
        api.open_secret(world.acme, purpose="lkm-hawk-key", name="credential-1", sealed=blob[:length])


def test_a_tenant_without_a_keystore_opens_nothing(world) -> None:
    blob = sealed(world.acme)
    with pytest.raises(api.KeystoreError):
        api.open_secret(world.globex, purpose="lkm-hawk-key", name="credential-1", sealed=blob)
    assert not TenantKey.objects.filter(tenant=world.globex).exists()  # opening never creates a data key


def test_another_master_key_opens_nothing(world) -> None:
    blob = sealed(world.acme)
    other_master_key = override_settings(PORTAL_MASTER_KEY=OTHER_MASTER_KEY, PORTAL_MASTER_KEY_FILE="")
    with other_master_key, pytest.raises(api.KeystoreError):
        api.open_secret(world.acme, purpose="lkm-hawk-key", name="credential-1", sealed=blob)
    assert api.open_secret(world.acme, purpose="lkm-hawk-key", name="credential-1", sealed=blob) == SECRET


def test_a_secret_of_one_tenant_copied_over_another_tenants_with_the_same_name_does_not_open(world) -> None:
    acme_blob = sealed(world.acme, b"acme secret", name="shared-name")
    globex_blob = sealed(world.globex, b"globex secret", name="shared-name")
    assert api.open_secret(world.globex, purpose="lkm-hawk-key", name="shared-name", sealed=globex_blob) == (
        b"globex secret"
    )
    with pytest.raises(api.KeystoreError):
        api.open_secret(world.globex, purpose="lkm-hawk-key", name="shared-name", sealed=acme_blob)
