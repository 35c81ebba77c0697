"""Renewing a certificate on the Screen Recording Certificates list can stage the successor there: the
administrators see it as a pending addition, and it encrypts nothing until one of them saves the list with it.
Removing it and saving, Cancel, or deleting the certificate ends the staging."""

from collections.abc import Sequence
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from certificates import followups
from certificates.archive import archive, purge
from certificates.generation import check_new_key
from certificates.models import Certificate
from certificates.renewal import renew as renew_certificate
from certificates.subject import SubjectFields
from portal.audit.log import Actor
from portal.audit.models import AuditEntry
from screenrecording.models import ScreenRecordingCertificate, ScreenRecordingSettings, StagedCertificate
from screenrecording.staging import stage
from tests.certificates.new_keys import form_data
from tests.conftest import World
from tests.factories import assign_to_screen_recording, make_certificate

STAGE = "screen-recording-stage"
STAGED_NOTE = "Staged: Successor of &#x27;rec-2026&#x27; — click Save to encrypt screen recordings with it"


def renew(world: World, predecessor: Certificate, chosen: Sequence[str] = (STAGE,)) -> tuple[Certificate, list[str]]:
    """alice renews ``predecessor`` with the ``chosen`` follow-ups: the successor and the notes."""
    new = check_new_key(world.acme, subject=SubjectFields("rec-2036"), bits=2048, days=3650, alias="rec-2036")
    outcome = renew_certificate(predecessor, new, by=Actor(world.alice), follow_ups=chosen)
    assert outcome.certificate is not None
    return outcome.certificate, outcome.notes


@pytest.fixture
def listed(world: World) -> Certificate:
    """The certificate on the list, about to be renewed."""
    certificate = make_certificate(world.acme, "rec-2026")
    assign_to_screen_recording(certificate)
    return certificate


def page(client: Client, slug: str = "acme") -> str:
    return client.get(reverse("screenrecording", args=[slug])).content.decode()


def post(client: Client, button: str, staged: list[Any], proposed: list[Any], selected: Sequence[Any] = ()) -> Any:
    """A click on ``button`` in alice's editor, the list at version 0 (no save before)."""
    fields = {"staged": staged, "proposed": proposed, "selected": selected}
    data = {name: [str(c.pk) for c in certs] for name, certs in fields.items()}
    return client.post(
        reverse("screenrecording-edit", args=["acme"]), {**data, "staging": "1", "version": "0", button: ""}
    )


def saved(world: World) -> set[str]:
    return {row.certificate.alias for row in ScreenRecordingCertificate.objects.filter(tenant=world.acme)}


def test_offered_only_for_a_certificate_on_the_list(world: World, listed: Certificate) -> None:
    offers = dict(followups.offered(listed))
    assert offers[STAGE] == "Stage the successor on the Screen Recording Certificates list (save it there to use it)"
    assert STAGE not in dict(followups.offered(make_certificate(world.acme, "elsewhere", key_index=1)))


def test_renewal_stages_the_successor_and_changes_nothing_on_the_list(world: World, listed: Certificate) -> None:
    successor, notes = renew(world, listed)
    assert notes == [
        "Staged 'rec-2036' on the Screen Recording Certificates list: it encrypts screen recordings once an "
        "administrator saves the list there."
    ]
    staging = StagedCertificate.objects.get()
    assert (staging.certificate, staging.reason, staging.staged_by) == (
        successor,
        "Successor of 'rec-2026'",
        world.alice,
    )
    assert saved(world) == {"rec-2026"} and not ScreenRecordingSettings.objects.filter(version__gt=0).exists()
    entry = AuditEntry.objects.get(action="screen-recording-staged")
    assert entry.actor_username == "alice" and entry.details["alias"] == "rec-2036"


def test_not_staged_unless_chosen(world: World, listed: Certificate) -> None:
    renew(world, listed, chosen=[])
    assert not StagedCertificate.objects.exists()


def test_the_administrator_sees_the_staged_successor_as_a_pending_addition(
    world: World, listed: Certificate, client_for
) -> None:
    successor, _ = renew(world, listed)
    html = page(client_for(world.alice))
    row = html.split('data-alias="rec-2036"', 1)[1].split("</tr>", 1)[0]
    assert "Pending add" in row and STAGED_NOTE in row
    assert "Saved" in html.split('data-alias="rec-2026"', 1)[1].split("</tr>", 1)[0]
    assert f'name="staged" value="{successor.pk}"' in html and f'name="proposed" value="{successor.pk}"' in html
    assert "Cancel discards them, staged certificates included." in html


@pytest.mark.parametrize("who", ["pat", "sam"])
def test_who_cannot_edit_the_list_sees_only_the_saved_list(world: World, listed: Certificate, client_for, who) -> None:
    renew(world, listed)
    html = page(client_for(getattr(world, who)))
    assert "rec-2026" in html and "rec-2036" not in html


def test_another_tenant_never_sees_or_settles_the_staging(world: World, listed: Certificate, client_for) -> None:
    successor, _ = renew(world, listed)
    bob = client_for(world.bob)
    assert "rec-2036" not in page(bob, "globex")
    bob.post(
        reverse("screenrecording-edit", args=["globex"]),
        {"staging": "1", "version": "0", "proposed": [str(successor.pk)], "cancel": ""},
    )
    assert StagedCertificate.objects.filter(certificate=successor).exists()


def test_save_puts_the_staged_successor_on_the_list_and_ends_the_staging(
    world: World, listed: Certificate, client_for
) -> None:
    successor, _ = renew(world, listed)
    alice = client_for(world.alice)
    response = post(alice, "save", [listed, successor], [successor])
    assert response.status_code == 302
    assert saved(world) == {"rec-2026", "rec-2036"} and not StagedCertificate.objects.exists()
    html = alice.get(response["Location"]).content.decode()
    assert "Saved: added &#x27;rec-2036&#x27;." in html and "Staged:" not in html
    assert AuditEntry.objects.get(action="screen-recording-saved").details["added"] == ["rec-2036"]


def test_removing_the_staged_successor_and_saving_drops_it(world: World, listed: Certificate, client_for) -> None:
    successor, _ = renew(world, listed)
    alice = client_for(world.alice)
    html = post(alice, "remove", [listed, successor], [successor], selected=[successor]).content.decode()
    assert 'data-alias="rec-2036"' not in html and f'name="proposed" value="{successor.pk}"' in html
    response = post(alice, "save", [listed], [successor])
    assert saved(world) == {"rec-2026"} and not StagedCertificate.objects.exists()
    assert (
        "The list is unchanged. No longer staged: &#x27;rec-2036&#x27;."
        in alice.get(response["Location"]).content.decode()
    )
    entry = AuditEntry.objects.get(action="screen-recording-unstaged")
    assert entry.details == {"aliases": ["rec-2036"], "why": "removed before saving"}
    assert 'data-alias="rec-2036"' not in page(alice)  # still offered in Select Certificate, no longer staged


def test_cancel_discards_the_staged_successor_and_says_so(world: World, listed: Certificate, client_for) -> None:
    successor, _ = renew(world, listed)
    alice = client_for(world.alice)
    response = post(alice, "cancel", [listed, successor], [successor])
    assert saved(world) == {"rec-2026"} and not StagedCertificate.objects.exists()
    assert "The staged &#x27;rec-2036&#x27; is discarded too." in alice.get(response["Location"]).content.decode()
    assert AuditEntry.objects.get(action="screen-recording-unstaged").details["why"] == "discarded with Cancel"


def test_a_staging_made_while_editing_survives_a_save_that_did_not_show_it(
    world: World, listed: Certificate, client_for
) -> None:
    other = make_certificate(world.acme, "other", key_index=1)
    alice = client_for(world.alice)
    successor, _ = renew(world, listed)  # after alice loaded the page: her form does not carry it
    post(alice, "save", [listed, other], [])
    assert saved(world) == {"rec-2026", "other"}
    assert StagedCertificate.objects.filter(certificate=successor).exists()
    assert STAGED_NOTE in page(alice)


def test_deleting_the_successor_drops_its_staging_and_it_can_be_purged(world: World, listed: Certificate) -> None:
    successor, _ = renew(world, listed)
    archive(world.acme, successor, typed_alias="rec-2036", by=Actor(world.alice))
    assert not StagedCertificate.objects.exists()
    entry = AuditEntry.objects.get(action="screen-recording-unstaged")
    assert entry.details == {"aliases": ["rec-2036"], "why": "certificate deleted"}
    assert AuditEntry.objects.get(action="certificate-archived").details["requests_withdrawn"] == 0
    purge(world.acme, successor, typed_alias="rec-2036", understood=True, by=Actor(world.alice))
    assert not Certificate.objects.filter(pk=successor.pk).exists()


def test_staging_a_certificate_already_on_the_list_or_staged_is_a_note(world: World, listed: Certificate) -> None:
    alice = Actor(world.alice)
    assert stage(listed, reason="Successor of 'old'", by=alice) == (
        "'rec-2026' is already on the Screen Recording Certificates list; nothing was staged."
    )
    other = make_certificate(world.acme, "other", key_index=1)
    stage(other, reason="Successor of 'old'", by=alice)
    assert stage(other, reason="Successor of 'old'", by=alice) == (
        "'other' is already staged on the Screen Recording Certificates list; save the list there to use it."
    )
    assert [s.certificate for s in StagedCertificate.objects.all()] == [other]
    assert AuditEntry.objects.filter(action="screen-recording-staged").count() == 1


def test_renewing_on_the_renew_page_stages_the_successor_for_the_list(
    world: World, listed: Certificate, client_for
) -> None:
    alice = client_for(world.alice)
    url = reverse("certificate-renew", args=["acme", listed.pk])
    offer = "Stage the successor on the Screen Recording Certificates list (save it there to use it)"
    assert offer in alice.get(url).content.decode()
    response = alice.post(url, form_data(alias="rec-2036", follow_ups=[STAGE]), follow=True)
    assert "Staged &#x27;rec-2036&#x27; on the Screen Recording Certificates list" in response.content.decode()
    assert STAGED_NOTE in page(alice) and saved(world) == {"rec-2026"}
