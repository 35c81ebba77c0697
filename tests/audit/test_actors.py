"""Who made a change and from where, as the audit trail keeps it: the signed-in user and their address for a change
made on a page; no one and no address for the same change made by a management command."""

from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from ivr.models import IvrAssignment
from portal.audit.log import Actor
from portal.audit.models import AuditEntry
from tests.conftest import PASSWORD, World
from tests.factories import make_certificate, record_profile
from tests.keystore.helpers import store

BACKUP_PASSWORD = "offsite backup 2027"


def who_and_where(action: str) -> tuple[object, str, str | None]:
    entry = AuditEntry.objects.get(action=action)
    return entry.actor, entry.actor_username, entry.ip


def test_a_backup_by_the_command_records_no_user_and_no_address(world: World, tmp_path, monkeypatch) -> None:
    store(world.acme, "voice", 0)
    monkeypatch.setenv("PORTAL_KEYSTORE_PASSWORD", BACKUP_PASSWORD)
    call_command("export_keystore", "--tenant", "acme", "--out", str(tmp_path / "acme.p12"))
    assert who_and_where("keystore-exported") == (None, "", None)


def test_the_same_backup_on_the_keystore_page_records_the_user_and_their_address(world: World, client_for) -> None:
    store(world.acme, "voice", 0)
    form = {"your_password": PASSWORD, "backup_password": BACKUP_PASSWORD, "backup_password_confirm": BACKUP_PASSWORD}
    url = reverse("keystore-backup", args=["acme"])
    response = client_for(world.alice).post(url, form, REMOTE_ADDR="198.51.100.23")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-pkcs12"
    assert who_and_where("keystore-exported") == (world.alice, "alice", "198.51.100.23")


def test_an_assignment_on_the_profile_page_names_the_professional_in_the_row_and_the_trail(
    world: World, client_for
) -> None:
    cert = make_certificate(world.acme, "acme-2026")
    profile = record_profile(world.acme)
    url = reverse("ivr-profile-assign", args=["acme", profile.pk])
    response = client_for(world.pat).post(url, {"certificate": str(cert.pk)}, REMOTE_ADDR="2001:db8::7")
    assert response.status_code == 302
    assert IvrAssignment.objects.get(profile=profile, certificate=cert).assigned_by == world.pat
    assert who_and_where("ivr-certificate-assigned") == (world.pat, "pat", "2001:db8::7")


def test_an_actor_of_a_request_is_its_signed_in_user_and_its_address_when_valid(world: World) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    request.user = world.alice
    assert Actor.of(request) == Actor(world.alice, "192.0.2.1")
    request.META["REMOTE_ADDR"] = "unix socket"
    request.user = AnonymousUser()
    assert Actor.of(request) == Actor(None, None)
