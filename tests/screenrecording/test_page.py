"""The Screen Recording Certificates page: staged Add/Remove, Cancel, Save, the last-certificate warning and
concurrent saves. Everything here works without JavaScript: the staged list travels in the form."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from certificates.usage import labels_for
from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from screenrecording.models import ScreenRecordingCertificate, ScreenRecordingSettings
from tests.conftest import World, make_user
from tests.factories import ca_issued_certificate, expired_certificate, make_certificate

FUTURE_ONLY = "Changes affect only future recordings; recordings already made keep their encryption."
UNENCRYPTED = "If you remove all certificates, screen recordings will no longer be encrypted."


def page_url(slug: str = "acme") -> str:
    return reverse("screenrecording", args=[slug])


def edit_url(slug: str = "acme") -> str:
    return reverse("screenrecording-edit", args=[slug])


def post(client: Client, button: str, staged: list[Any], version: int = 0, **fields: Any) -> Any:
    data: dict[str, Any] = {"staging": "1", "version": str(version), "staged": [str(c.pk) for c in staged], button: ""}
    for name, values in fields.items():
        data[name] = [str(v.pk) for v in values] if isinstance(values, list) else values
    return client.post(edit_url(), data)


def saved(tenant: Any) -> set[str]:
    return {a.certificate.alias for a in ScreenRecordingCertificate.objects.filter(tenant=tenant)}


def put_on_list(tenant: Any, *certs: Any) -> None:
    for cert in certs:
        ScreenRecordingCertificate.objects.create(tenant=tenant, certificate=cert)


@pytest.mark.parametrize("who", ["alice", "pat", "sam"])
def test_page_lists_assigned_certificates_and_says_changes_affect_future_recordings(
    world: World, client_for, who: str
) -> None:
    put_on_list(world.acme, make_certificate(world.acme, "screen-2026"))
    page = client_for(getattr(world, who)).get(page_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert "screen-2026" in html and FUTURE_ONLY in html
    assert ("Save</button>" in html) == (who == "alice")


def test_empty_list_says_recordings_are_not_encrypted(world: World, client_for) -> None:
    html = client_for(world.sam).get(page_url()).content.decode()
    assert "screen recordings are not encrypted" in html and FUTURE_ONLY in html


def test_select_certificate_offers_only_eligible_certificates(world: World, client_for) -> None:
    listed = make_certificate(world.acme, "listed")
    put_on_list(world.acme, listed)
    make_certificate(world.acme, "candidate")
    expired_certificate(world.acme, "old-2024")
    untrusted, root = ca_issued_certificate(world.acme, "untrusted")
    root.delete()
    make_certificate(world.globex, "globex-cert")
    response = post(client_for(world.alice), "open_add", [listed])
    html = response.content.decode()
    dialog = html.split('id="select-certificate"', 1)[1]
    assert " open>" in dialog.split("\n", 1)[0]
    assert 'name="pick"' in dialog and ">candidate</label>" in dialog
    for absent in ("listed</label>", "old-2024", "untrusted", "globex-cert"):
        assert absent not in dialog
    assert saved(world.acme) == {"listed"}


def test_add_and_remove_are_staged_until_save(world: World, client_for) -> None:
    kept, dropped, new = (make_certificate(world.acme, a) for a in ("kept", "dropped", "new"))
    put_on_list(world.acme, kept, dropped)
    alice = client_for(world.alice)
    html = post(alice, "add", [kept, dropped], pick=[new]).content.decode()
    assert "Pending add" in html and f'name="staged" value="{new.pk}"' in html
    html = post(alice, "remove", [kept, dropped, new], selected=[dropped]).content.decode()
    assert "Pending removal" in html and "Pending add" in html
    assert f'name="staged" value="{dropped.pk}"' not in html
    # Nothing is written before Save.
    assert saved(world.acme) == {"kept", "dropped"}
    assert not AuditEntry.objects.filter(action="screen-recording-saved").exists()
    response = post(alice, "save", [kept, new])
    assert response.status_code == 302
    assert saved(world.acme) == {"kept", "new"}
    assert ScreenRecordingSettings.objects.get(tenant=world.acme).version == 1
    entry = AuditEntry.objects.get(action="screen-recording-saved")
    assert entry.actor_username == "alice"
    assert entry.details == {"added": ["new"], "removed": ["dropped"], "version": 1, "encrypted": True}
    follow = alice.get(response["Location"]).content.decode()
    assert "Saved: added &#x27;new&#x27;; removed &#x27;dropped&#x27;." in follow


def test_cancel_discards_staged_changes(world: World, client_for) -> None:
    kept, new = make_certificate(world.acme, "kept"), make_certificate(world.acme, "new")
    put_on_list(world.acme, kept)
    response = post(client_for(world.alice), "cancel", [new])
    assert response.status_code == 302 and response["Location"] == page_url()
    assert saved(world.acme) == {"kept"}
    assert not AuditEntry.objects.filter(action="screen-recording-saved").exists()


def test_removing_the_last_certificate_warns_and_needs_confirmation(world: World, client_for) -> None:
    only = make_certificate(world.acme, "only")
    put_on_list(world.acme, only)
    alice = client_for(world.alice)
    html = post(alice, "remove", [only], selected=[only]).content.decode()
    assert UNENCRYPTED in html and 'name="confirm_unencrypted"' in html
    html = post(alice, "save", []).content.decode()
    assert "Check the confirmation to save anyway" in html
    assert saved(world.acme) == {"only"}
    response = post(alice, "save", [], confirm_unencrypted="on")
    assert response.status_code == 302
    assert saved(world.acme) == set()
    assert AuditEntry.objects.get(action="screen-recording-saved").details["encrypted"] is False
    assert labels_for([only.pk])[only.pk] == []


def test_a_stale_save_is_refused_and_shows_the_current_list(world: World, client_for) -> None:
    first, second = make_certificate(world.acme, "first"), make_certificate(world.acme, "second")
    # Two administrators of the tenant loaded version 0; the colleague saves first.
    colleague = client_for(make_user("carol", Role.TENANT_ADMIN, world.acme))
    assert post(colleague, "save", [first], version=0).status_code == 302
    response = post(client_for(world.alice), "save", [second], version=0)
    html = response.content.decode()
    assert response.status_code == 409
    assert "The list was changed by carol at " in html
    assert "while you were editing. Nothing was saved; this is the current list." in html
    assert "first" in html and 'name="version" value="1"' in html and "Pending add" not in html
    assert saved(world.acme) == {"first"}
    assert AuditEntry.objects.filter(action="screen-recording-saved").count() == 1


def test_save_checks_added_certificates_again(world: World, client_for) -> None:
    cert = make_certificate(world.acme, "expires-soon")
    cert.not_valid_after = datetime.now(UTC) - timedelta(minutes=1)  # expired between staging and Save
    cert.save()
    html = post(client_for(world.alice), "save", [cert]).content.decode()
    assert "expired on" in html and "Nothing was saved." in html
    assert saved(world.acme) == set()


def test_picking_an_ineligible_or_foreign_certificate_is_refused(world: World, client_for) -> None:
    old = expired_certificate(world.acme, "old-2024")
    foreign = make_certificate(world.globex, "globex-cert")
    alice = client_for(world.alice)
    for pick in (old, foreign):
        html = post(alice, "add", [], pick=[pick]).content.decode()
        assert "can no longer be added" in html
        assert f'name="staged" value="{pick.pk}"' not in html
    assert "Check at least one certificate" in post(alice, "add", []).content.decode()


def test_a_foreign_certificate_smuggled_into_the_staged_list_is_never_saved(world: World, client_for) -> None:
    foreign = make_certificate(world.globex, "globex-cert")
    post(client_for(world.alice), "save", [foreign])
    assert not ScreenRecordingCertificate.objects.exists()


def test_an_incomplete_form_changes_nothing(world: World, client_for) -> None:
    put_on_list(world.acme, make_certificate(world.acme, "kept"))
    response = client_for(world.alice).post(edit_url(), {"save": "", "staged": "not-a-uuid", "version": "0"})
    assert response.status_code == 302
    assert saved(world.acme) == {"kept"}


def test_list_labels_report_screen_recording_use(world: World) -> None:
    cert = make_certificate(world.acme, "screen")
    put_on_list(world.acme, cert)
    assert labels_for([cert.pk])[cert.pk] == ["Screen recording"]


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("charlie", 404), ("bob", 404)])
def test_editing_requires_the_tenant_admin_role(world: World, client_for, who: str, status: int) -> None:
    cert = make_certificate(world.acme, "cert")
    assert post(client_for(getattr(world, who)), "save", [cert]).status_code == status
    assert not ScreenRecordingCertificate.objects.exists()


def test_page_checks_ownership_and_the_editor_rejects_get(world: World, client_for) -> None:
    assert client_for(world.alice).get(page_url("globex")).status_code == 404
    assert client_for(world.charlie).get(page_url()).status_code == 404
    assert client_for(world.alice).get(edit_url()).status_code == 405
    assert client_for(world.alice).post(page_url()).status_code == 405
