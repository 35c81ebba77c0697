import pytest
from django.urls import reverse

from portal.audit.log import COMMAND, GENESIS_HASH, Actor, record
from portal.audit.models import AppendOnlyError, AuditEntry, AuditHead
from tests.conftest import PASSWORD, World


def test_entries_chain_their_hashes(world: World) -> None:
    first = record("test-one", by=Actor(world.alice), tenant=world.acme, details={"n": 1})
    second = record("test-two", by=COMMAND, tenant=world.globex, obj=world.globex)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert second.entry_hash == AuditEntry.objects.get(pk=second.pk).compute_hash()
    assert second.object_type == "tenant" and second.object_id == str(world.globex.pk)
    head = AuditHead.objects.get()
    assert head.last_hash == second.entry_hash and head.count == 2


def test_entries_cannot_be_changed_or_deleted(world: World) -> None:
    entry = record("test", by=COMMAND, tenant=world.acme)
    entry.action = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().update(action="changed")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test"


@pytest.mark.parametrize(
    "details",
    [
        {"password": "x"},
        {"nested": {"Private_Key": "x"}},
        {"file": "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."},
        {"list": ["fine", "-----BEGIN ENCRYPTED PRIVATE KEY-----"]},
    ],
)
def test_secrets_are_refused(world: World, details) -> None:
    with pytest.raises(ValueError):
        record("test", by=COMMAND, tenant=world.acme, details=details)
    assert not AuditEntry.objects.exists()


def test_sign_in_events_are_recorded_with_address(world: World, client) -> None:
    client.post(reverse("login"), {"username": "alice", "password": "wrong"}, REMOTE_ADDR="192.0.2.7")
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7")
    client.post(reverse("logout"), REMOTE_ADDR="192.0.2.7")
    entries = list(AuditEntry.objects.order_by("id").values_list("action", "actor_username", "ip", "details"))
    assert entries == [
        ("sign-in-failed", "", "192.0.2.7", {"username": "alice"}),
        ("sign-in", "alice", "192.0.2.7", {}),
        ("sign-out", "alice", "192.0.2.7", {}),
    ]


def test_password_change_is_recorded_and_works(world: World, client_for) -> None:
    client = client_for(world.alice)
    new = "another long passphrase 9"
    response = client.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert world.alice.check_password(new)
    assert AuditEntry.objects.filter(action="password-changed", actor_username="alice").exists()
