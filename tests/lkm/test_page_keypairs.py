"""The Local Key Manager page: keypairs, "Create keypair now", and the rotation schedule."""

import base64
import re
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.urls import reverse

from lkm import keypairs
from lkm.models import Keypair, Origin, Period, RotationSchedule
from portal.audit.log import COMMAND
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.lkm.page_kit import json_blocks_after, keypair_of, lkm_state, messages_of, page_url, text_of


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
    before = lkm_state()
    response = client.post(reverse("lkm-schedule", args=["acme"]), {"period": value}, follow=True)
    assert messages_of(response) == ["Choose one of the rotation periods."]
    assert 'class="message error"' in response.content.decode()
    assert RotationSchedule.objects.get(tenant=world.acme).period == Period.MONTHLY
    assert lkm_state() == before


def test_a_new_keypair_restarts_the_schedule(world: World, client_for) -> None:
    client = client_for(world.alice)
    keypair_of(world.acme, NEWEST)
    client.post(reverse("lkm-schedule", args=["acme"]), {"period": Period.DAILY})
    client.post(reverse("lkm-keypair-create", args=["acme"]))
    made = Keypair.objects.filter(tenant=world.acme, origin=Origin.PORTAL).exclude(date_created=NEWEST).get()
    from datetime import timedelta

    assert RotationSchedule.objects.get(tenant=world.acme).next_due == made.date_created + timedelta(days=1)
