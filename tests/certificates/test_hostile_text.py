"""Certificate names holding control and text-direction characters read as what they hold everywhere they appear:
the parser writes such characters as escapes ("\\U202E", "\\1B"), so pages, CSV downloads and mails never carry
them, and "invoice\\u202egnp.exe" can no longer show as "invoiceexe.png"."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from certificates.models import Certificate
from tests.certificates import pki
from tests.conftest import World
from tests.factories import archive, assign_to_ivr, assign_to_screen_recording, post_preview, save_certificate

# Every character that acts on the text around it instead of being read, except the line breaks and tabs every page
# and mail holds of its own.
RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")

CN = "invoice\u202egnp.exe"
ORGANIZATION = "Evil\x1b[31mRed"
UNIT = "line1\nline2\u2066x\u2069\x00\u200f"
SAN = [
    x509.DNSName("host\x1b[2J.example"),
    x509.DNSName("a\nb.example"),
    x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dir\u202aname\u061c")])),
]
# How each appears once escaped.
CN_SHOWN = "invoice\\U202Egnp.exe"
ORGANIZATION_SHOWN = "Evil\\1B[31mRed"
UNIT_SHOWN = "line1\\0Aline2\\U2066x\\U2069\\00\\U200F"  # cryptography's RFC 4514 text writes NUL as "\00" too


def hostile_certificate(not_after: datetime | None = None) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, CN),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, UNIT),
        ]
    )
    return pki.make_self_signed(
        pki.make_key(2048, 5),
        subject=subject,
        extensions=[(x509.SubjectAlternativeName(SAN), False)],
        not_after=not_after,
    )


def assert_shown_safely(text: str) -> None:
    assert RAW.search(text) is None, repr(RAW.search(text))
    assert "line1\nline2" not in text and "a\nb.example" not in text
    assert CN_SHOWN in text


@pytest.fixture
def hostile(world: World) -> Certificate:
    cert, key = hostile_certificate()
    return save_certificate(world.acme, cert, key, alias="hostile")


def test_the_parser_stores_escapes_not_the_characters(hostile: Certificate) -> None:
    assert hostile.subject_name == CN_SHOWN
    assert hostile.subject_dn == f"CN={CN_SHOWN},O={ORGANIZATION_SHOWN},OU={UNIT_SHOWN}"
    assert hostile.issuer_dn == hostile.subject_dn
    assert not RAW.search(hostile.subject_name + hostile.subject_dn + hostile.chain_reason)


def test_every_page_that_shows_the_certificate_shows_escapes(world: World, client_for, hostile: Certificate) -> None:
    assign_to_ivr(hostile)
    assign_to_screen_recording(hostile)
    alice, sam = client_for(world.alice), client_for(world.sam)
    profile = hostile.ivr_assignments.get().profile
    pages = {
        "list": alice.get(reverse("certificate-list", args=["acme"])),
        "detail": alice.get(reverse("certificate-detail", args=["acme", hostile.pk])),
        "keystore": alice.get(reverse("keystore-home", args=["acme"])),
        "key download": alice.get(reverse("keystore-key-download", args=["acme", hostile.entry_id])),
        "expiry": sam.get(reverse("expiry-dashboard")),
        "tenant expiry": alice.get(reverse("expiry-tenant", args=["acme"])),
        "ivr profile": alice.get(reverse("ivr-profile-detail", args=["acme", profile.pk])),
        "screen recording": alice.get(reverse("screenrecording", args=["acme"])),
        "audit": sam.get(reverse("audit-log")),
        "tenant audit": alice.get(reverse("audit-tenant", args=["acme"])),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert_shown_safely(response.content.decode())
    detail = pages["detail"].content.decode()
    for shown in (ORGANIZATION_SHOWN, "DNS:host\\1B[2J.example", "DNS:a\\0Ab.example", "O=dir\\U202Aname\\U061C"):
        assert shown in detail, shown
    assert ORGANIZATION_SHOWN in pages["audit"].content.decode()


def test_the_archive_shows_escapes(world: World, client_for, hostile: Certificate) -> None:
    archive(hostile)
    response = client_for(world.alice).get(reverse("certificate-archive", args=["acme"]))
    assert response.status_code == 200
    assert_shown_safely(response.content.decode())


def test_the_upload_preview_shows_escapes(world: World, client_for) -> None:
    cert, key = hostile_certificate()
    answer = post_preview(client_for(world.alice), "acme", pki.pem(cert), pki.key_pem_pkcs8(key))
    shown = answer.json()["certificate"]
    assert shown["subject_name"] == CN_SHOWN
    assert_shown_safely(" ".join(shown.values()))


def csv_text(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_csv_downloads_hold_escapes(world: World, client_for, hostile: Certificate) -> None:
    sam = client_for(world.sam)
    for url in (reverse("expiry-dashboard-csv"), reverse("audit-log-csv"), reverse("audit-tenant-csv", args=["acme"])):
        text = csv_text(sam.get(url))
        assert RAW.search(text) is None
        assert CN_SHOWN in text
    rows = list(csv.DictReader(io.StringIO(csv_text(sam.get(reverse("expiry-dashboard-csv"))))))
    assert [row["Subject Name"] for row in rows] == [CN_SHOWN]
    assert rows[0]["Issuer DN"] == hostile.issuer_dn


def test_expiry_mail_holds_escapes(world: World) -> None:
    end = datetime(2027, 6, 30, 9, 30, tzinfo=UTC)
    with time_machine.travel(end - timedelta(days=200), tick=False):
        cert, key = hostile_certificate(not_after=end)
        save_certificate(world.acme, cert, key, alias="hostile")
    with time_machine.travel(end - timedelta(days=30), tick=False):
        call_command("notify_expiring")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    for text in (str(message.subject), str(message.body)):
        assert RAW.search(text) is None
    assert CN_SHOWN in message.body and ORGANIZATION_SHOWN in message.body
    assert "line1\nline2" not in message.body


@pytest.mark.django_db(transaction=True)
def test_rows_stored_before_escape_their_names_on_upgrade(world: World) -> None:
    """Rows written when only C0 controls were escaped get direction characters escaped by the migration, issuer
    and subject alike, so an issued certificate still matches its root CA's DN."""
    cert, key = pki.make_self_signed(pki.make_key(2048, 6), "plain")
    saved = save_certificate(world.acme, cert, key, alias="plain")
    Certificate.objects.filter(pk=saved.pk).update(
        subject_name=CN, subject_dn=f"CN={CN},O=Evil\\1B[31mRed", issuer_dn=f"CN={CN}\u2069", chain_reason="ok\u202e"
    )
    executor = MigrationExecutor(connection)
    executor.migrate([("certificates", "0007_models_move_to_ivr_and_expiry")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    upgraded = Certificate.objects.get(pk=saved.pk)
    assert upgraded.subject_name == CN_SHOWN
    assert upgraded.subject_dn == f"CN={CN_SHOWN},O=Evil\\1B[31mRed"  # escaped before: unchanged
    assert upgraded.issuer_dn == f"CN={CN_SHOWN}\\U2069"
    assert upgraded.chain_reason == "ok\\U202E"
