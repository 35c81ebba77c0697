"""The key drill: every key, active and archived, proven to open a recording encrypted to it."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from keystore.api import KeystoreEntry
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.factories import make_certificate

pytestmark = pytest.mark.django_db


def _damage(alias: str) -> None:
    entry = KeystoreEntry.objects.get(alias=alias)
    sealed = bytearray(bytes(entry.sealed_private_key))
    sealed[-1] ^= 0xFF
    KeystoreEntry.objects.filter(pk=entry.pk).update(sealed_private_key=bytes(sealed))


def _verify(capsys, *args: str) -> tuple[int, str, str]:
    try:
        call_command("verify_keys", *args)
        code = 0
    except SystemExit as exit:
        code = int(exit.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_every_key_is_proven_and_remembered(world: World, capsys) -> None:
    make_certificate(world.acme, "current", key_index=1)
    make_certificate(world.acme, "retired", key_index=2, archived=True)
    make_certificate(world.globex, "globex-key", key_index=3)
    code, out, _ = _verify(capsys)
    assert code == 0
    assert out.splitlines()[:3] == ["acme current: OK", "acme retired: OK", "globex globex-key: OK"]
    assert "Verified 3 keys: 3 OK, 0 failed." in out
    assert all(entry.proven_at is not None and entry.proof_failure == "" for entry in KeystoreEntry.objects.all())
    assert AuditEntry.objects.filter(action="keys-verified").count() == 2


def test_a_damaged_key_is_named_and_the_command_fails(world: World, capsys) -> None:
    make_certificate(world.acme, "healthy", key_index=1)
    make_certificate(world.acme, "broken", key_index=2)
    _damage("broken")
    code, out, err = _verify(capsys, "--tenant", "acme")
    assert code == 1
    assert "acme healthy: OK" in out
    broken_line = next(line for line in out.splitlines() if line.startswith("acme broken:"))
    assert "FAILED" in broken_line and "damaged" in broken_line
    assert "1 failed" in err and "Traceback" not in out + err
    broken = KeystoreEntry.objects.get(alias="broken")
    assert broken.proven_at is None and broken.proof_failure


def test_an_unknown_tenant_is_one_line(world: World) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No tenant with the identifier 'nope'"):
        call_command("verify_keys", "--tenant", "nope")


def test_the_keystore_page_verifies_and_shows_when(world: World, client_for) -> None:
    make_certificate(world.acme, "shown-key", key_index=1)
    make_certificate(world.acme, "bad-key", key_index=2)
    _damage("bad-key")
    client = client_for(world.alice)
    before = client.get(reverse("keystore-home", args=["acme"])).content.decode()
    assert "Verify keys" in before and "Never" in before
    response = client.post(reverse("recordings-verify-keys", args=["acme"]), follow=True)
    page = response.content.decode()
    assert "1 of 2 keys failed: &#x27;bad-key&#x27;" in page
    assert "Failed" in page
    assert KeystoreEntry.objects.get(alias="shown-key").proven_at is not None


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("charlie", 404), ("bob", 404)])
def test_only_administrators_verify(world: World, client_for, who: str, status: int) -> None:
    make_certificate(world.acme, "key")
    response = client_for(getattr(world, who)).post(reverse("recordings-verify-keys", args=["acme"]))
    assert response.status_code == status
    assert KeystoreEntry.objects.get().proof_checked_at is None


def test_a_press_proves_a_bounded_number_and_says_how_many_remain(world: World, client_for, monkeypatch) -> None:
    from recordings import views

    monkeypatch.setattr(views, "VERIFY_ON_PAGE", 2)
    for number in range(3):
        make_certificate(world.acme, f"key-{number}", key_index=number)
    client = client_for(world.alice)
    page = client.post(reverse("recordings-verify-keys", args=["acme"]), follow=True).content.decode()
    assert "All 2 keys verified" in page and "1 more key to verify" in page
    assert KeystoreEntry.objects.filter(proven_at__isnull=True).count() == 1
    page = client.post(reverse("recordings-verify-keys", args=["acme"]), follow=True).content.decode()
    assert KeystoreEntry.objects.filter(proven_at__isnull=True).count() == 0  # the unchecked one went first


def test_a_second_run_within_the_window_leaves_the_keys_to_the_first(world: World, capsys) -> None:
    make_certificate(world.acme, "current", key_index=1)
    assert _verify(capsys)[0] == 0
    code, out, _ = _verify(capsys)
    assert code == 0
    assert out.splitlines()[0].startswith("acme: skipped, another run started proving its keys at ")
    assert "Verified 0 keys" in out
    assert AuditEntry.objects.filter(action="keys-verified", tenant=world.acme).count() == 1
    # Asked for now, it proves them again.
    code, out, _ = _verify(capsys, "--once-within", "0")
    assert code == 0 and "acme current: OK" in out
    assert AuditEntry.objects.filter(action="keys-verified", tenant=world.acme).count() == 2


def test_a_run_after_the_window_proves_the_keys_again(world: World, capsys) -> None:
    make_certificate(world.acme, "current", key_index=1)
    assert _verify(capsys)[0] == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        code, out, _ = _verify(capsys)
    assert code == 0 and "acme current: OK" in out
    assert AuditEntry.objects.filter(action="keys-verified", tenant=world.acme).count() == 2


def test_a_negative_window_is_one_line(world: World) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--once-within is a number of minutes"):
        call_command("verify_keys", "--once-within", "-1")
