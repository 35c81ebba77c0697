"""IVR profiles: every tenant's "record" profile, adding and editing profiles, the profile page and its Annex."""

import importlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from ivr.models import IvrProfile
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.factories import assigned_to_record, make_certificate, record_profile


def test_every_tenant_starts_with_a_record_profile(world: World) -> None:
    call_command("create_tenant", "initech", name="Initech")
    for slug in ("acme", "globex", "initech"):
        profile = IvrProfile.objects.get(tenant__slug=slug)
        assert profile.name == "record" and profile.dbid == 1


def test_tenants_made_before_ivr_profiles_get_a_record_profile_from_the_migration(world: World) -> None:
    name = "0003_record_profile_for_existing_tenants"
    migration = importlib.import_module(f"certificates.migrations.{name}")
    # The models as that migration saw them (IvrProfile still in certificates then); the table is the same.
    historical = MigrationLoader(connection).project_state(("certificates", name)).apps
    IvrProfile.objects.filter(tenant=world.acme).delete()
    IvrProfile.objects.create(tenant=world.acme, name="chat", dbid=7)
    migration.add_record_profiles(historical, None)
    migration.add_record_profiles(historical, None)  # twice: nothing doubles
    assert sorted(IvrProfile.objects.filter(tenant=world.acme).values_list("name", "dbid")) == [
        ("chat", 7),
        ("record", 8),
    ]
    assert IvrProfile.objects.filter(tenant=world.globex).count() == 1


@pytest.mark.parametrize("who", ["alice", "pat", "sam"])
def test_profile_list_shows_the_tenants_profiles(world: World, client_for, who: str) -> None:
    page = client_for(getattr(world, who)).get(reverse("ivr-profile-list", args=["acme"]))
    assert page.status_code == 200
    assert b">record</a>" in page.content
    assert (b"Add IVR profile" in page.content) == (who == "pat")


def test_profile_list_checks_ownership(world: World, client_for) -> None:
    assert client_for(world.alice).get(reverse("ivr-profile-list", args=["globex"])).status_code == 404
    assert client_for(world.charlie).get(reverse("ivr-profile-list", args=["acme"])).status_code == 404


def test_professional_adds_a_profile_and_it_is_audited(world: World, client_for) -> None:
    response = client_for(world.pat).post(
        reverse("ivr-profile-add", args=["acme"]), {"name": "record-eu", "dbid": "4711", "description": "EU"}
    )
    profile = IvrProfile.objects.get(tenant=world.acme, name="record-eu")
    assert response.status_code == 302 and response["Location"] == reverse(
        "ivr-profile-detail", args=["acme", profile.pk]
    )
    assert profile.dbid == 4711
    entry = AuditEntry.objects.get(action="ivr-profile-created")
    assert entry.actor_username == "pat" and entry.details == {"profile": "record-eu", "dbid": 4711}


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": "Record", "dbid": "9"}, "This tenant already has an IVR profile named"),
        ({"name": "other", "dbid": "1"}, "DBID 1 is already the IVR profile &#x27;record&#x27;"),
        ({"name": "other", "dbid": "12a"}, "Enter a whole number."),
        ({"name": "other", "dbid": "0"}, "greater than or equal to 1"),
        ({"name": "  ", "dbid": "5"}, "This field is required."),
    ],
)
def test_bad_profile_input_gets_a_clear_message(world: World, client_for, data, message: str) -> None:
    response = client_for(world.pat).post(reverse("ivr-profile-add", args=["acme"]), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert IvrProfile.objects.filter(tenant=world.acme).count() == 1
    assert not AuditEntry.objects.filter(action="ivr-profile-created").exists()


def test_the_same_dbid_is_fine_in_another_tenant(world: World, client_for) -> None:
    IvrProfile.objects.create(tenant=world.globex, name="billing", dbid=300)
    response = client_for(world.pat).post(reverse("ivr-profile-add", args=["acme"]), {"name": "billing", "dbid": "300"})
    assert response.status_code == 302


def test_professional_edits_the_dbid(world: World, client_for) -> None:
    profile = record_profile(world.acme)
    url = reverse("ivr-profile-edit", args=["acme", profile.pk])
    assert client_for(world.pat).get(url).status_code == 200
    response = client_for(world.pat).post(url, {"name": "record", "dbid": "250", "description": "voice"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.dbid == 250
    assert AuditEntry.objects.get(action="ivr-profile-changed").details == {"profile": "record", "dbid": 250}


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_adding_and_editing_profiles_requires_the_right_role(world: World, client_for, who: str) -> None:
    client = client_for(getattr(world, who))
    profile = record_profile(world.acme)
    assert client.get(reverse("ivr-profile-add", args=["acme"])).status_code == 403
    assert client.post(reverse("ivr-profile-add", args=["acme"]), {"name": "x", "dbid": "5"}).status_code == 403
    edit = reverse("ivr-profile-edit", args=["acme", profile.pk])
    assert client.post(edit, {"name": "x", "dbid": "5"}).status_code == 403
    assert IvrProfile.objects.filter(tenant=world.acme).count() == 1


def test_profile_pages_check_ownership(world: World, client_for) -> None:
    foreign = record_profile(world.globex)
    client = client_for(world.pat)
    for name in ("ivr-profile-detail", "ivr-profile-edit", "ivr-profile-annex"):
        assert client.get(reverse(name, args=["acme", foreign.pk])).status_code == 404
        assert client.get(reverse(name, args=["globex", foreign.pk])).status_code == 404


def test_detail_shows_certificates_and_the_annex_section_but_nothing_about_private_keys(
    world: World, client_for
) -> None:
    assignment = assigned_to_record(world.acme, "acme-2026")
    cert = assignment.certificate
    page = client_for(world.pat).get(reverse("ivr-profile-detail", args=["acme", assignment.profile.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for text in (cert.subject_name, cert.serial_number, cert.sha256_fingerprint, "recording-certificates"):
        assert text in html
    assert "Option <code>acme-2026</code>" in html
    assert "-----BEGIN CERTIFICATE-----" in html
    assert "private key" not in html.lower().replace("never its private key", "")
    assert "Unassign" in html


def test_tenant_admin_sees_the_request_form_not_assign_or_unassign(world: World, client_for) -> None:
    assignment = assigned_to_record(world.acme, "acme-2026")
    html = client_for(world.alice).get(reverse("ivr-profile-detail", args=["acme", assignment.profile.pk])).content
    assert b"Request assignment" in html
    assert b"Unassign" not in html and b'name="certificate"' not in html


def test_support_reads_the_profile_without_any_form(world: World, client_for) -> None:
    assignment = assigned_to_record(world.acme, "acme-2026")
    html = client_for(world.sam).get(reverse("ivr-profile-detail", args=["acme", assignment.profile.pk])).content
    assert b"acme-2026" in html
    assert b"Request assignment" not in html and b"Unassign" not in html and b"Edit profile" not in html


def test_annex_download_holds_each_certificate_as_a_text_option(world: World, client_for) -> None:
    first = assigned_to_record(world.acme, "acme-2026")
    second = assigned_to_record(world.acme, "acme 2027")
    response = client_for(world.sam).get(reverse("ivr-profile-annex", args=["acme", first.profile.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="acme-record-recording-certificates.txt"'
    text = response.content.decode()
    assert "[recording-certificates]" in text and "DBID 1" in text
    for assignment in (first, second):
        option = text.split(f"\n{assignment.certificate.alias}=", 1)[1]
        pem = option.split("-----END CERTIFICATE-----", 1)[0] + "-----END CERTIFICATE-----"
        loaded = x509.load_pem_x509_certificate(pem.encode())
        assert loaded.public_bytes(Encoding.DER) == assignment.certificate.certificate_der


def test_read_only_profile_views_reject_post(world: World, client_for) -> None:
    profile = record_profile(world.acme)
    client = client_for(world.pat)
    assert client.post(reverse("ivr-profile-list", args=["acme"])).status_code == 405
    assert client.post(reverse("ivr-profile-detail", args=["acme", profile.pk])).status_code == 405
    assert client.post(reverse("ivr-profile-annex", args=["acme", profile.pk])).status_code == 405


def test_profile_list_counts_certificates(world: World, client_for) -> None:
    assigned_to_record(world.acme, "one")
    make_certificate(world.acme, "unassigned")
    IvrProfile.objects.create(tenant=world.acme, name="chat", dbid=5)
    page = client_for(world.alice).get(reverse("ivr-profile-list", args=["acme"])).content.decode()
    record_row = page.split(">record</a>", 1)[1].split("</tr>", 1)[0]
    chat_row = page.split(">chat</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>1</td>" in record_row
    assert "voice recordings not encrypted" in chat_row
