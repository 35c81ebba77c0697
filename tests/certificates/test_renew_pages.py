"""The Renew page through the test client: filled in from the certificate, a successor linked to it (at once for a
self-signed certificate, through a waiting key for a CA-issued one), the follow-ups offered and run as checked,
refusals on their fields with nothing saved, and who may renew."""

from datetime import timedelta
from typing import Any

import pytest
from cryptography import x509
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certificates import followups
from certificates.models import Certificate, CertificateRequest
from keystore.models import KeystoreEntry
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.certificates.new_keys import form_data, signed_reply
from tests.conftest import World
from tests.factories import archive, ca_issued_certificate, errors, make_certificate


def renew_url(cert: Certificate) -> str:
    return reverse("certificate-renew", args=[cert.tenant.slug, cert.pk])


def detail_url(cert: Certificate) -> str:
    return reverse("certificate-detail", args=[cert.tenant.slug, cert.pk])


@pytest.fixture
def voice(world: World) -> Certificate:
    """A self-signed certificate ending in 20 days, valid for a year."""
    return make_certificate(world.acme, "voice", cn="Voice Recording", days=20)


@pytest.fixture
def registered(monkeypatch) -> list[tuple[Any, Any, Any]]:
    """A follow-up offered for every certificate except "quiet"; the calls it received."""
    calls: list[tuple[Any, Any, Any]] = []

    def apply(predecessor, successor, by) -> list[str]:
        calls.append((predecessor, successor, by))
        return [f"Told the profile about '{successor.alias}'."]

    monkeypatch.setattr(followups, "_follow_ups", {})
    followups.register(
        followups.FollowUp(
            "tell-profile",
            offer=lambda cert: None if cert.alias == "quiet" else f"Tell the profile using '{cert.alias}'",
            apply=apply,
        )
    )
    return calls


def test_the_form_starts_from_the_certificate(world: World, client_for, voice) -> None:
    response = client_for(world.alice).get(renew_url(voice))
    assert response.status_code == 200
    text = response.content.decode()
    assert "<h1>Renew voice</h1>" in text
    assert 'name="common_name" value="Voice Recording"' in text
    assert 'name="country" value="US"' in text and 'name="organization" value="Genesys"' in text
    assert f'name="days" value="{(voice.not_valid_after - voice.not_valid_before).days}"' in text
    assert '<option value="3072" selected>' in text  # a 2048-bit key is renewed with the default size at least
    assert "stays active" in text
    assert "Generating the key can take a few seconds (RSA-4096 longer)." in text


def test_renewing_a_self_signed_certificate_makes_its_successor(world: World, client_for, voice) -> None:
    client = client_for(world.alice)
    response = client.post(renew_url(voice), form_data(common_name="Voice Recording", alias="voice-2027"))
    successor = Certificate.objects.get(renews=voice)
    assert response.status_code == 302, errors(response)
    assert response["Location"] == detail_url(successor)
    assert successor.alias == "voice-2027" and successor.subject_name == "Voice Recording"
    assert successor.is_self_signed and successor.entry_id != voice.entry_id
    voice.refresh_from_db()
    assert voice.archived_at is None  # the predecessor stays, for playback and until it is replaced
    assert AuditEntry.objects.get(action="certificate-renewed").actor == world.alice

    page = client.get(response["Location"]).content.decode()
    assert "Certificate &#x27;voice&#x27; was renewed: &#x27;voice-2027&#x27;" in page
    assert f'<dt>Renews</dt><dd><a href="{detail_url(voice)}">voice</a>' in page
    predecessor_page = client.get(detail_url(voice)).content.decode()
    assert f'<dt>Renewed by</dt><dd><a href="{detail_url(successor)}">voice-2027</a>' in predecessor_page
    listing = client.get(reverse("certificate-list", args=["acme"])).content.decode()
    assert ">voice</a>" in listing and ">voice-2027</a>" in listing


def test_renewing_a_ca_issued_certificate_waits_for_the_cas_certificate(world: World, client_for) -> None:
    issued, _ = ca_issued_certificate(world.acme, "issued")
    client = client_for(world.alice)
    form = client.get(renew_url(issued)).content.decode()
    assert 'name="days"' not in form and "was issued by a CA" in form

    response = client.post(renew_url(issued), form_data(common_name="Acme Recording", alias="issued-2027"))
    waiting = CertificateRequest.objects.get()
    assert response.status_code == 302, errors(response)
    assert response["Location"] == reverse("certificate-waiting", args=["acme", waiting.pk])
    assert waiting.renews == issued and Certificate.objects.count() == 1
    waiting_page = client.get(response["Location"]).content.decode()
    assert f'<dt>Renews</dt><dd><a href="{detail_url(issued)}">issued</a>' in waiting_page
    assert f'href="{response["Location"]}">issued-2027</a>' in client.get(detail_url(issued)).content.decode()


def test_the_cas_certificate_for_a_renewal_becomes_the_successor(world: World, client_for) -> None:
    issued, root = ca_issued_certificate(world.acme, "issued")
    ca_cert, ca_key = x509.load_der_x509_certificate(bytes(root.der)), pki.make_key(2048, 1)  # the factory's CA
    client = client_for(world.alice)
    client.post(renew_url(issued), form_data(alias="issued-2027"))
    waiting = CertificateRequest.objects.get()
    reply = SimpleUploadedFile("issued.pem", pki.pem(signed_reply(waiting, ca_cert, ca_key)))
    response = client.post(
        reverse("certificate-reply", args=["acme"]), {"waiting": str(waiting.pk), "certificate_file": reply}
    )
    successor = Certificate.objects.get(renews=issued)
    assert response["Location"] == detail_url(successor)
    assert successor.alias == "issued-2027" and successor.chain_ok and not CertificateRequest.objects.exists()
    page = client.get(detail_url(issued)).content.decode()
    assert f'<dt>Renewed by</dt><dd><a href="{detail_url(successor)}">issued-2027</a>' in page


def test_the_follow_ups_are_offered_and_run_as_checked(world: World, client_for, voice, registered) -> None:
    client = client_for(world.alice)
    text = client.get(renew_url(voice)).content.decode()
    assert 'type="checkbox" name="follow_ups" value="tell-profile"' in text
    assert "Tell the profile using &#x27;voice&#x27;</label>" in text

    response = client.post(renew_url(voice), form_data(follow_ups=["tell-profile"]))
    successor = Certificate.objects.get(renews=voice)
    assert [(p.pk, s.pk, by.user) for p, s, by in registered] == [(voice.pk, successor.pk, world.alice)]
    page = client.get(response["Location"]).content.decode()
    assert f"Told the profile about &#x27;{successor.alias}&#x27;." in page


def test_an_unchecked_follow_up_does_not_run(world: World, client_for, voice, registered) -> None:
    response = client_for(world.alice).post(renew_url(voice), form_data())
    assert response.status_code == 302, errors(response)
    assert Certificate.objects.filter(renews=voice).exists() and registered == []


def test_a_follow_up_with_nothing_to_do_is_not_offered(world: World, client_for, registered) -> None:
    quiet = make_certificate(world.acme, "quiet", days=20)
    client = client_for(world.alice)
    assert 'name="follow_ups"' not in client.get(renew_url(quiet)).content.decode()
    # Posted anyway, it is not run.
    response = client.post(renew_url(quiet), form_data(follow_ups=["tell-profile"]))
    assert response.status_code == 302, errors(response)
    assert Certificate.objects.filter(renews=quiet).exists() and registered == []


def test_a_follow_up_not_offered_is_refused_beside_those_offered(world: World, client_for, voice, registered) -> None:
    response = client_for(world.alice).post(renew_url(voice), form_data(follow_ups=["tell-everyone"]))
    assert response.status_code == 200
    assert list(errors(response)) == ["follow_ups"]
    assert not Certificate.objects.filter(renews=voice).exists() and registered == []


@pytest.mark.parametrize(
    "change,field,message",
    [
        ({"common_name": ""}, "common_name", "Enter the Common Name (CN), such as Genesys Recording."),
        ({"country": "USA"}, "country", "Country (C) is a two-letter country code, such as US."),
        ({"days": "9126"}, "days", "The validity is 1 to 9,125 days (25 years); 9126 is outside that."),
        ({"bits": "1024"}, "bits", "Keys are RSA 2048, 3072 or 4096 bits; 1024 is not one of them."),
        ({"alias": "voice"}, "alias", "The alias 'voice' is already used in this keystore (aliases ignore case)."),
    ],
)
def test_a_bad_field_is_refused_and_nothing_is_made(world: World, client_for, voice, change, field, message) -> None:
    client = client_for(world.alice)
    before = (KeystoreEntry.objects.count(), AuditEntry.objects.count())
    response = client.post(renew_url(voice), form_data(**change))
    assert response.status_code == 200
    assert errors(response) == {field: message}
    assert not Certificate.objects.filter(renews=voice).exists() and not CertificateRequest.objects.exists()
    assert (KeystoreEntry.objects.count(), AuditEntry.objects.count()) == before


def test_the_detail_page_offers_renew_to_administrators_only(world: World, client_for, voice) -> None:
    assert f'href="{renew_url(voice)}">Renew</a>' in client_for(world.alice).get(detail_url(voice)).content.decode()
    for reader in (world.pat, world.sam):
        text = client_for(reader).get(detail_url(voice)).content.decode()
        assert renew_url(voice) not in text
        download = reverse("certificate-download", args=["acme", voice.pk])
        assert f'href="{download}">Download certificate</a>' in text
        assert f'href="{download}?format=der">Download DER</a>' in text


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("bob", 404), ("charlie", 404)])
def test_only_the_tenants_administrators_renew(world: World, client_for, voice, who, status) -> None:
    client = client_for(getattr(world, who))
    assert client.get(renew_url(voice)).status_code == status
    assert client.post(renew_url(voice), form_data()).status_code == status
    assert not Certificate.objects.filter(renews=voice).exists()


def test_an_archived_certificate_is_not_renewed(world: World, client_for, voice) -> None:
    archive(voice)
    assert client_for(world.alice).get(renew_url(voice)).status_code == 404


def test_an_archived_predecessor_is_named_without_a_link(world: World, client_for, voice) -> None:
    client = client_for(world.alice)
    client.post(renew_url(voice), form_data(alias="voice-2027"))
    successor = Certificate.objects.get(renews=voice)
    archive(voice, at=voice.not_valid_after + timedelta(days=1))
    page = client.get(detail_url(successor)).content.decode()
    assert '<dt>Renews</dt><dd>voice <span class="muted">(archived)</span>' in page
