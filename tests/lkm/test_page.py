"""The Local Key Manager page: who reaches it, and issuing and revoking credentials."""

import base64
import uuid

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from lkm.credentials import issue_credential
from lkm.models import Credential
from portal.audit.log import COMMAND, Actor
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.lkm.page_kit import (
    hawk_get,
    issue,
    issued_json,
    json_blocks_after,
    lkm_state,
    messages_of,
    page_url,
    stored_text_holding,
    text_of,
)


def test_the_tenant_admin_sees_the_decrypt_url(world: World, client_for) -> None:
    response = client_for(world.alice).get(page_url())
    assert response.status_code == 200
    assert "<code>http://testserver/key-management/v1/decrypt</code>" in response.content.decode()
    assert "No credential yet" in response.content.decode() and "No keypair yet." in response.content.decode()


@override_settings(LKM_PUBLIC_URL="https://lkm.example.com")
def test_the_decrypt_url_is_the_public_one_behind_a_proxy(world: World, client_for) -> None:
    page = client_for(world.alice).get(page_url()).content.decode()
    assert "<code>https://lkm.example.com/key-management/v1/decrypt</code>" in page
    assert "http://testserver/key-management" not in page


@override_settings(LKM_PUBLIC_URL="https://lkm.example.com/")
def test_a_trailing_slash_on_the_public_url_is_not_doubled(world: World, client_for) -> None:
    page = client_for(world.alice).get(page_url()).content.decode()
    assert "<code>https://lkm.example.com/key-management/v1/decrypt</code>" in page


def test_the_page_is_in_the_tenant_navigation_of_admins_only(world: World, client_for) -> None:
    assert f'href="{page_url()}"' in client_for(world.alice).get(reverse("tenant-home", args=["acme"])).content.decode()
    assert (
        f'href="{page_url()}"' not in client_for(world.pat).get(reverse("tenant-home", args=["acme"])).content.decode()
    )


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("bob", 404), ("charlie", 404)])
def test_others_do_not_reach_the_page(world: World, client_for, who: str, status: int) -> None:
    assert client_for(getattr(world, who)).get(page_url()).status_code == status


def test_anonymous_is_sent_to_sign_in(world: World) -> None:
    response = Client().get(page_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_another_tenants_page_is_not_found_for_its_neighbour(world: World, client_for) -> None:
    assert client_for(world.alice).get(page_url("globex")).status_code == 404


def _post_actions(world: World) -> dict[str, tuple[str, dict[str, str]]]:
    credential = issue_credential(world.acme, by=Actor(world.alice), label="acme").credential
    return {
        "issue": (reverse("lkm-credential-issue", args=["acme"]), {"label": "x"}),
        "revoke": (reverse("lkm-credential-revoke", args=["acme", credential.id]), {}),
        "keypair": (reverse("lkm-keypair-create", args=["acme"]), {}),
        "schedule": (reverse("lkm-schedule", args=["acme"]), {"period": "WEEKLY"}),
    }


@pytest.mark.parametrize("action", ["issue", "revoke", "keypair", "schedule"])
@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("bob", 404), ("charlie", 404), (None, 302)])
def test_no_one_but_the_tenant_admin_acts(world: World, client_for, action: str, who: str | None, status: int) -> None:
    url, data = _post_actions(world)[action]
    client = client_for(getattr(world, who)) if who else Client()
    before = lkm_state()
    response = client.post(url, data)
    assert response.status_code == status
    if who is None:
        assert response["Location"].startswith(reverse("login"))
    assert lkm_state() == before


@pytest.mark.parametrize("action", ["issue", "revoke", "keypair", "schedule"])
def test_the_actions_refuse_get(world: World, client_for, action: str) -> None:
    url, _ = _post_actions(world)[action]
    client = client_for(world.alice)
    before = lkm_state()
    assert client.get(url).status_code == 405
    assert lkm_state() == before


# Credentials ------------------------------------------------------------------------------------------------------


def test_an_issued_credential_is_shown_once_with_its_key_configuration(world: World, client_for) -> None:
    client = client_for(world.alice)
    response = issue(client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    shown = issued_json(response)
    credential = Credential.objects.get(pk=shown["id"])
    assert credential.tenant == world.acme and credential.label == "Genesys Cloud production"
    assert credential.created_by_name == "alice"
    assert "it is shown only this once" in text_of(response)
    [configuration] = [
        c
        for c in json_blocks_after(text_of(response), "POST /api/v2/recording/keyconfigurations")
        if c["apiId"] != "CREDENTIAL_ID"
    ]
    assert configuration == {
        "url": "http://testserver/key-management/v1/decrypt",
        "apiId": shown["id"],
        "apiKey": shown["authKey"],
        "keyConfigurationType": "LocalKeyManager",
    }
    # The key works: Genesys Cloud signing with it is let in.
    assert hawk_get(Client(), shown).status_code == 200

    again = client.get(page_url())
    assert shown["id"] in again.content.decode()  # listed, as the API ID
    assert shown["authKey"] not in again.content.decode()
    assert "Genesys Cloud production" in again.content.decode()

    entry = AuditEntry.objects.get(action="lkm-credential-issued")
    assert entry.actor == world.alice and entry.tenant == world.acme and entry.details["credential"] == shown["id"]


def test_the_auth_key_is_not_stored_in_the_clear(world: World, client_for) -> None:
    shown = issued_json(issue(client_for(world.alice)))
    credential = Credential.objects.get(pk=shown["id"])
    sealed = bytes(credential.sealed_auth_key)
    assert sealed and shown["authKey"].encode() not in sealed
    assert base64.urlsafe_b64decode(shown["authKey"] + "==") not in sealed
    assert stored_text_holding(shown["authKey"]) == []
    assert "lkm.Credential.label" in stored_text_holding("Genesys Cloud production")  # the scan reads the tables


@override_settings(LKM_PUBLIC_URL="https://lkm.example.com")
def test_the_key_configuration_names_the_public_url(world: World, client_for) -> None:
    response = issue(client_for(world.alice))
    urls = {c["url"] for c in json_blocks_after(text_of(response), "POST /api/v2/recording/keyconfigurations")}
    assert urls == {"https://lkm.example.com/key-management/v1/decrypt"}


@pytest.mark.parametrize("label", ["prod\x07uction", "line\nbreak", "tab\tbed", "right\u202eleft", "nul\x00"])
def test_labels_with_invisible_characters_are_refused(world: World, client_for, label: str) -> None:
    client = client_for(world.alice)
    before = lkm_state()
    response = issue(client, label)
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert '"authKey"' not in text_of(response)
    assert lkm_state() == before


def test_a_label_is_shown_as_text(world: World, client_for) -> None:
    client = client_for(world.alice)
    issue(client, '<img src=x onerror="alert(1)">')
    page = client.get(page_url()).content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_a_label_longer_than_100_characters_is_refused(world: World, client_for) -> None:
    response = issue(client_for(world.alice), "x" * 101)
    assert response.status_code == 400 and not Credential.objects.exists()


def test_revoking_a_credential(world: World, client_for) -> None:
    client = client_for(world.alice)
    shown = issued_json(issue(client))
    response = client.post(reverse("lkm-credential-revoke", args=["acme", shown["id"]]), follow=True)
    assert response.redirect_chain[-1][0].endswith(page_url() + "#credentials")
    assert messages_of(response) == [f"Credential {shown['id']} is revoked: requests signed with it are refused."]
    credential = Credential.objects.get(pk=shown["id"])
    assert credential.revoked is not None and credential.revoked_by_name == "alice"
    assert "revoked" in response.content.decode()
    assert f'aria-label="Revoke credential {shown["id"]}"' not in response.content.decode()
    entry = AuditEntry.objects.get(action="lkm-credential-revoked")
    assert entry.actor == world.alice and entry.tenant == world.acme and entry.details["credential"] == shown["id"]
    # Genesys Cloud signing with it is now refused.
    assert hawk_get(Client(), shown).status_code == 401


def test_revoking_twice_says_so(world: World, client_for) -> None:
    client = client_for(world.alice)
    shown = issued_json(issue(client))
    url = reverse("lkm-credential-revoke", args=["acme", shown["id"]])
    client.post(url, follow=True)
    first = Credential.objects.get(pk=shown["id"]).revoked
    response = client.post(url, follow=True)
    assert messages_of(response) == [f"Credential {shown['id']} was revoked already."]
    assert 'class="message info"' in response.content.decode()
    assert Credential.objects.get(pk=shown["id"]).revoked == first
    assert AuditEntry.objects.filter(action="lkm-credential-revoked").count() == 1


def test_another_tenants_credential_cannot_be_revoked(world: World, client_for) -> None:
    theirs = issue_credential(world.globex, by=Actor(world.bob)).credential
    response = client_for(world.alice).post(reverse("lkm-credential-revoke", args=["acme", theirs.id]))
    assert response.status_code == 404
    assert Credential.objects.get(pk=theirs.id).revoked is None
    unknown = client_for(world.alice).post(reverse("lkm-credential-revoke", args=["acme", uuid.uuid4()]))
    assert unknown.status_code == 404


def test_the_page_lists_only_its_own_tenants_credentials(world: World, client_for) -> None:
    theirs = issue_credential(world.globex, by=Actor(world.bob), label="globex only").credential
    page = client_for(world.alice).get(page_url()).content.decode()
    assert str(theirs.id) not in page and "globex only" not in page


# Keypairs ---------------------------------------------------------------------------------------------------------


def test_the_page_lists_the_newest_hundred_credentials_and_says_where_the_rest_are(world: World, client_for) -> None:
    for index in range(101):
        issue_credential(world.acme, by=COMMAND, label=f"credential {index}")
    text = text_of(client_for(world.alice).get(page_url()))
    assert "credential 100" in text and "credential 1<" in text.replace("</td>", "<")
    assert "credential 0<" not in text.replace("</td>", "<")
    assert "The newest 100 of 101" in " ".join(text.split())
    assert "list_lkm_credentials --tenant acme" in text
