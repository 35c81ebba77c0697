"""The Local Key Manager page: who reaches it, issuing and revoking credentials, keypairs made on the page, and the
rotation schedule."""

import base64
import html
import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.apps import apps
from django.db import models
from django.test import Client, override_settings
from django.urls import reverse
from mohawk import Sender  # type: ignore[import-untyped]  # no stubs published

from lkm import keypairs
from lkm.credentials import issue_credential
from lkm.models import Credential, Keypair, Origin, Period, RotationSchedule
from portal.audit.log import COMMAND, Actor
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.keystore.helpers import rsa_key

DECRYPT_PATH = "/key-management/v1/decrypt"
KEYPAIR_LIST_URL = "http://testserver/key-management/v1/keypair"


def page_url(slug: str = "acme") -> str:
    return reverse("lkm-page", args=[slug])


def text_of(response) -> str:
    """The page as a reader sees its text: entities decoded (JSON in <code> blocks is HTML-escaped)."""
    return html.unescape(response.content.decode())


def messages_of(response) -> list[str]:
    return [
        html.unescape(m).strip() for m in re.findall(r'<li class="message[^"]*">(.*?)</li>', response.content.decode())
    ]


def issue(client: Client, label: str = "Genesys Cloud production"):
    return client.post(reverse("lkm-credential-issue", args=["acme"]), {"label": label})


def issued_json(response) -> dict[str, str]:
    match = re.search(r'\{"id": "[^"]*", "authKey": "[^"]*", "algorithm": "sha256"\}', text_of(response))
    assert match, "the answer shows no credential"
    return json.loads(match.group(0))


def json_blocks_after(text: str, request_line: str) -> list[dict]:
    """Every JSON body shown under ``request_line`` (e.g. POST /api/v2/recording/localkeys)."""
    return [json.loads(body) for body in re.findall(re.escape(request_line) + r"\n(\{.*?\})</code>", text, re.DOTALL)]


def hawk_get(client: Client, credentials: dict[str, str]):
    """GET /key-management/v1/keypair signed with ``credentials``, as Genesys Cloud signs it."""
    hawk = {"id": credentials["id"], "key": credentials["authKey"], "algorithm": "sha256"}
    sender = Sender(hawk, KEYPAIR_LIST_URL, "GET", content="", content_type="", always_hash_content=False)
    return client.get(KEYPAIR_LIST_URL, HTTP_AUTHORIZATION=sender.request_header)


def stored_text_holding(secret: str) -> list[str]:
    """Every model.field, text, JSON or bytes, of any table that holds ``secret`` in some row."""
    found = []
    needle = secret.encode()
    for model in apps.get_models():
        stored = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField | models.BinaryField)
        ]
        if not stored:
            continue
        for row in model._default_manager.values_list(*[f.attname for f in stored]):
            for field, value in zip(stored, row, strict=True):
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                else:
                    raw = json.dumps(value).encode() if isinstance(field, models.JSONField) else str(value).encode()
                if needle in raw:
                    found.append(f"{model._meta.label}.{field.name}")
    return found


def keypair_of(tenant, when: datetime, index: int = 0) -> Keypair:
    """A keypair made ``when``, its key a cached 2048-bit test key (the schedule only reads the date)."""
    from keystore.api import store_private_key
    from tests.keystore.helpers import certificate, der

    key = rsa_key(index)
    keypair_id = uuid.uuid4()
    entry = store_private_key(tenant, alias=f"lkm-{keypair_id}", certificate_der=der(certificate(key)), private_key=key)
    return Keypair.objects.create(
        id=keypair_id,
        tenant=tenant,
        entry=entry,
        public_key_der=key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1),
        date_created=when,
        origin=Origin.PORTAL,
        created_by_name="alice",
    )


# Who reaches the page ---------------------------------------------------------------------------------------------


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


def _state() -> tuple:
    return (
        AuditEntry.objects.count(),
        Credential.objects.count(),
        Credential.objects.filter(revoked__isnull=False).count(),
        Keypair.objects.count(),
        RotationSchedule.objects.count(),
    )


@pytest.mark.parametrize("action", ["issue", "revoke", "keypair", "schedule"])
@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("bob", 404), ("charlie", 404), (None, 302)])
def test_no_one_but_the_tenant_admin_acts(world: World, client_for, action: str, who: str | None, status: int) -> None:
    url, data = _post_actions(world)[action]
    client = client_for(getattr(world, who)) if who else Client()
    before = _state()
    response = client.post(url, data)
    assert response.status_code == status
    if who is None:
        assert response["Location"].startswith(reverse("login"))
    assert _state() == before


@pytest.mark.parametrize("action", ["issue", "revoke", "keypair", "schedule"])
def test_the_actions_refuse_get(world: World, client_for, action: str) -> None:
    url, _ = _post_actions(world)[action]
    client = client_for(world.alice)
    before = _state()
    assert client.get(url).status_code == 405
    assert _state() == before


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
    before = _state()
    response = issue(client, label)
    assert response.status_code == 400
    assert 'class="field-error"' in response.content.decode()
    assert '"authKey"' not in text_of(response)
    assert _state() == before


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


def keypair_cells(page: str, keypair: Keypair) -> list[str]:
    """The text of each cell of the keypair's row in the table."""
    row = re.search(r"<tr>\s*<td><code>" + str(keypair.id) + r"</code>.*?</tr>", page, re.DOTALL)
    assert row is not None, "the keypair is not listed"
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row.group(0), re.DOTALL)]


def test_create_keypair_now(world: World, client_for) -> None:
    client = client_for(world.alice)
    response = client.post(reverse("lkm-keypair-create", args=["acme"]), follow=True)
    assert response.redirect_chain[-1][0].endswith(page_url() + "#keypairs")
    keypair = Keypair.objects.get(tenant=world.acme)
    assert keypair.origin == Origin.PORTAL and keypair.created_by == world.alice
    [message] = messages_of(response)
    assert message.startswith(f"Keypair {keypair.id} was created.")

    page = text_of(response)
    cells = keypair_cells(page, keypair)
    assert cells[1] == f"{keypair.date_created:%Y-%m-%d %H:%M:%S}"
    assert cells[2] == "alice"
    assert cells[3].startswith("RSA 3072, SHA-256 ")
    assert cells[4] == "never" and cells[5] == "0"
    assert "1 keypair, newest first." in page

    [local_key] = [
        b for b in json_blocks_after(page, "POST /api/v2/recording/localkeys") if b.get("keypairId") == str(keypair.id)
    ]
    assert set(local_key) == {"configId", "publicKey", "keypairId"}
    public_key = serialization.load_der_public_key(base64.b64decode(local_key["publicKey"]))
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 3072
    certificate = x509.load_der_x509_certificate(bytes(keypair.entry.certificate_der))
    wrapped_in_keystore = certificate.public_key()
    assert isinstance(wrapped_in_keystore, rsa.RSAPublicKey)
    assert public_key.public_numbers() == wrapped_in_keystore.public_numbers()
    # It is the bare PKCS#1 RSAPublicKey Genesys Cloud takes.
    assert base64.b64decode(local_key["publicKey"]) == public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.PKCS1
    )

    entry = AuditEntry.objects.get(action="lkm-keypair-created")
    assert entry.actor == world.alice and entry.details["keypair"] == str(keypair.id)

    # A data key wrapped to that public key comes back, and the page counts the use.
    data_key = bytes(range(32))
    wrapped = public_key.encrypt(data_key, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))
    body = base64.b64encode(wrapped).decode()
    answer = keypairs.decrypt(world.acme, keypair_id=str(keypair.id), body=body, decrypt_type=None, by=COMMAND)
    assert base64.b64decode(answer) == data_key
    cells = keypair_cells(text_of(client.get(page_url())), keypair)
    assert cells[4] != "never" and cells[5] == "1"


def test_the_page_lists_only_its_own_tenants_keypairs(world: World, client_for) -> None:
    theirs = keypair_of(world.globex, datetime(2026, 1, 1, tzinfo=UTC))
    page = client_for(world.alice).get(page_url()).content.decode()
    assert str(theirs.id) not in page and "No keypair yet." in page


# Rotation schedule ------------------------------------------------------------------------------------------------

NEWEST = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "period,next_due",
    [
        (Period.DAILY, datetime(2026, 2, 1, 9, 30, tzinfo=UTC)),
        (Period.WEEKLY, datetime(2026, 2, 7, 9, 30, tzinfo=UTC)),
        (Period.MONTHLY, datetime(2026, 2, 28, 9, 30, tzinfo=UTC)),  # 31 January + 1 month: February's last day
        (Period.YEARLY, datetime(2027, 1, 31, 9, 30, tzinfo=UTC)),
    ],
)
def test_each_period_saves_and_shows_the_next_due(world: World, client_for, period: Period, next_due: datetime) -> None:
    keypair_of(world.acme, NEWEST)
    response = client_for(world.alice).post(reverse("lkm-schedule", args=["acme"]), {"period": period}, follow=True)
    assert response.redirect_chain[-1][0].endswith(page_url() + "#rotation")
    schedule = RotationSchedule.objects.get(tenant=world.acme)
    assert schedule.period == period and schedule.next_due == next_due
    shown = f"{next_due:%Y-%m-%d %H:%M}"
    assert messages_of(response) == [f"Rotation is {period.label.lower()}; the next keypair is due {shown} UTC."]
    assert f"The next keypair is due {shown} UTC." in text_of(response)
    assert re.search(rf'<option value="{period}" selected>', response.content.decode())
    entry = AuditEntry.objects.get(action="lkm-rotation-scheduled")
    assert entry.actor == world.alice and entry.tenant == world.acme and entry.details == {"period": str(period)}


def test_a_schedule_without_keypairs_is_due_at_once(world: World, client_for) -> None:
    before = datetime.now(UTC)
    client_for(world.alice).post(reverse("lkm-schedule", args=["acme"]), {"period": Period.WEEKLY})
    next_due = RotationSchedule.objects.get(tenant=world.acme).next_due
    assert next_due is not None and before <= next_due <= datetime.now(UTC)


def test_disabling_the_schedule(world: World, client_for) -> None:
    client = client_for(world.alice)
    keypair_of(world.acme, NEWEST)
    client.post(reverse("lkm-schedule", args=["acme"]), {"period": Period.WEEKLY}, follow=True)
    response = client.post(reverse("lkm-schedule", args=["acme"]), {"period": Period.DISABLED}, follow=True)
    schedule = RotationSchedule.objects.get(tenant=world.acme)
    assert schedule.period == Period.DISABLED and schedule.next_due is None
    assert messages_of(response) == ["Scheduled rotation is off. Keypairs are made only when asked for."]
    assert "The next keypair is due" not in text_of(response)
    assert AuditEntry.objects.filter(action="lkm-rotation-scheduled").count() == 2


@pytest.mark.parametrize("value", ["HOURLY", "weekly", "", "WEEKLY\x00"])
def test_an_invalid_period_is_refused(world: World, client_for, value: str) -> None:
    client = client_for(world.alice)
    keypair_of(world.acme, NEWEST)
    client.post(reverse("lkm-schedule", args=["acme"]), {"period": Period.MONTHLY}, follow=True)
    before = _state()
    response = client.post(reverse("lkm-schedule", args=["acme"]), {"period": value}, follow=True)
    assert messages_of(response) == ["Choose one of the rotation periods."]
    assert 'class="message error"' in response.content.decode()
    assert RotationSchedule.objects.get(tenant=world.acme).period == Period.MONTHLY
    assert _state() == before


def test_a_new_keypair_restarts_the_schedule(world: World, client_for) -> None:
    client = client_for(world.alice)
    keypair_of(world.acme, NEWEST)
    client.post(reverse("lkm-schedule", args=["acme"]), {"period": Period.DAILY})
    client.post(reverse("lkm-keypair-create", args=["acme"]))
    made = Keypair.objects.filter(tenant=world.acme, origin=Origin.PORTAL).exclude(date_created=NEWEST).get()
    from datetime import timedelta

    assert RotationSchedule.objects.get(tenant=world.acme).next_due == made.date_created + timedelta(days=1)


def test_the_page_lists_the_newest_hundred_credentials_and_says_where_the_rest_are(world: World, client_for) -> None:
    for index in range(101):
        issue_credential(world.acme, by=COMMAND, label=f"credential {index}")
    text = text_of(client_for(world.alice).get(page_url()))
    assert "credential 100" in text and "credential 1<" in text.replace("</td>", "<")
    assert "credential 0<" not in text.replace("</td>", "<")
    assert "The newest 100 of 101" in " ".join(text.split())
    assert "list_lkm_credentials --tenant acme" in text
