"""The Generate and Request from a CA pages through the test client: what each makes, every refusal on its own
field with nothing saved, and who may use them."""

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.urls import reverse

from certificates.models import Certificate, CertificateRequest
from keystore.api import ALIAS_TOO_LONG, MAX_ALIAS_LENGTH
from keystore.models import KeystoreEntry
from portal.audit.models import AuditEntry
from tests.certificates.new_keys import form_data
from tests.conftest import World
from tests.factories import errors, make_certificate


def generate_url(tenant: str = "acme") -> str:
    return reverse("certificate-generate", args=[tenant])


def request_url(tenant: str = "acme") -> str:
    return reverse("certificate-request", args=[tenant])


def nothing_made() -> bool:
    return (
        not Certificate.objects.exists()
        and not CertificateRequest.objects.exists()
        and not KeystoreEntry.objects.exists()
        and not AuditEntry.objects.filter(tenant__isnull=False).exists()
    )


# --- The form -------------------------------------------------------------------------------------------------------


def test_the_generate_form_asks_for_the_subject_validity_size_and_alias(world: World, client_for) -> None:
    response = client_for(world.alice).get(generate_url())
    assert response.status_code == 200
    text = response.content.decode()
    for label in (
        "Common Name (CN)",
        "Country (C)",
        "State or Province (ST)",
        "Locality (L)",
        "Organization (O)",
        "Organizational Unit (OU)",
        "E-mail",
        "Validity (days)",
        "Key size",
        "Alias",
    ):
        assert f">{label}</label>" in text, label
    assert 'placeholder="Genesys Recording"' in text and 'placeholder="security@example.com"' in text
    assert 'name="days" value="3650"' in text
    assert '<option value="3072" selected>RSA 3072 bits</option>' in text
    assert '<option value="2048">RSA 2048 bits</option>' in text and '<option value="4096">' in text
    # Said without JavaScript too: generating takes a moment.
    assert "Generating the key can take a few seconds (RSA-4096 longer)." in text
    assert "js/generate.js" in text


def test_the_request_form_leaves_the_validity_to_the_ca(world: World, client_for) -> None:
    text = client_for(world.alice).get(request_url()).content.decode()
    assert ">Common Name (CN)</label>" in text and ">Key size</label>" in text
    assert 'name="days"' not in text
    assert "Generate key and CSR" in text


# --- Generate -------------------------------------------------------------------------------------------------------


def test_generate_makes_a_key_and_self_signed_certificate_and_shows_it(world: World, client_for) -> None:
    client = client_for(world.alice)
    response = client.post(generate_url(), form_data())
    saved = Certificate.objects.select_related("entry").get()
    assert response.status_code == 302
    assert response["Location"] == reverse("certificate-detail", args=["acme", saved.pk])

    assert saved.tenant == world.acme and saved.alias == "genesys-recording"
    assert saved.is_self_signed and saved.key_size == 2048 and saved.uploaded_by == world.alice
    assert saved.not_valid_after - saved.not_valid_before == timedelta(days=3650)
    subject = x509.load_der_x509_certificate(saved.certificate_der).subject
    assert [(a.oid, a.value) for a in subject] == [
        (NameOID.COMMON_NAME, "Genesys Recording"),
        (NameOID.COUNTRY_NAME, "US"),
        (NameOID.STATE_OR_PROVINCE_NAME, "California"),
        (NameOID.LOCALITY_NAME, "Daly City"),
        (NameOID.ORGANIZATION_NAME, "Genesys"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Recording"),
        (NameOID.EMAIL_ADDRESS, "security@example.com"),
    ]
    audit = AuditEntry.objects.get(action="certificate-generated")
    assert audit.actor == world.alice and audit.tenant == world.acme

    page = client.get(response["Location"]).content.decode()
    assert "Key and self-signed certificate &#x27;genesys-recording&#x27; (Genesys Recording) were generated." in page
    assert "Trusted" in page


def test_generate_takes_the_alias_validity_and_size_asked_for(world: World, client_for) -> None:
    response = client_for(world.alice).post(
        generate_url(), form_data(alias="voice-2026", days="30", bits="3072", country="us")
    )
    assert response.status_code == 302, errors(response)
    saved = Certificate.objects.get()
    assert saved.alias == "voice-2026" and saved.key_size == 3072
    assert saved.not_valid_after - saved.not_valid_before == timedelta(days=30)
    assert "C=US" in saved.subject_dn


def test_only_the_common_name_is_needed(world: World, client_for) -> None:
    data = {"common_name": "Voice", "days": "365", "bits": "2048"}
    response = client_for(world.alice).post(generate_url(), data)
    assert response.status_code == 302, errors(response)
    assert Certificate.objects.get().subject_dn == "CN=Voice"


@pytest.mark.parametrize(
    "change,field,message",
    [
        ({"country": "USA"}, "country", "Country (C) is a two-letter country code, such as US."),
        ({"common_name": ""}, "common_name", "Enter the Common Name (CN), such as Genesys Recording."),
        ({"common_name": "  "}, "common_name", "Enter the Common Name (CN), such as Genesys Recording."),
        (
            {"common_name": "R" * 65},
            "common_name",
            "The Common Name (CN) is at most 64 characters; this one has 65.",
        ),
        ({"days": "0"}, "days", "The validity is 1 to 9,125 days (25 years); 0 is outside that."),
        ({"days": "9126"}, "days", "The validity is 1 to 9,125 days (25 years); 9126 is outside that."),
        ({"bits": "1024"}, "bits", "Keys are RSA 2048, 3072 or 4096 bits; 1024 is not one of them."),
        ({"bits": "8192"}, "bits", "Keys are RSA 2048, 3072 or 4096 bits; 8192 is not one of them."),
        ({"alias": "a" * (MAX_ALIAS_LENGTH + 1)}, "alias", ALIAS_TOO_LONG),
    ],
)
def test_each_bad_field_is_refused_on_the_field_and_nothing_is_made(
    world: World, client_for, change, field, message
) -> None:
    response = client_for(world.alice).post(generate_url(), form_data(**change))
    assert response.status_code == 200
    assert errors(response) == {field: message}
    assert f'id="id_{field}"' in response.content.decode()
    assert nothing_made()


def test_every_bad_field_shows_its_own_message_at_once(world: World, client_for) -> None:
    response = client_for(world.alice).post(
        generate_url(), form_data(common_name="", country="Germany", days="-5", bits="512")
    )
    assert set(errors(response)) == {"common_name", "country", "days", "bits"}
    # What was typed stays, so only the wrong fields are typed again.
    text = response.content.decode()
    assert 'value="Germany"' in text and 'value="Daly City"' in text
    assert 'aria-invalid="true"' in text
    assert nothing_made()


def test_an_alias_in_use_is_refused_on_the_alias(world: World, client_for) -> None:
    make_certificate(world.acme, "voice")
    client = client_for(world.alice)
    before = (Certificate.objects.count(), KeystoreEntry.objects.count(), AuditEntry.objects.count())
    response = client.post(generate_url(), form_data(alias="Voice"))
    assert response.status_code == 200
    assert errors(response) == {"alias": "The alias 'Voice' is already used in this keystore (aliases ignore case)."}
    assert (Certificate.objects.count(), KeystoreEntry.objects.count(), AuditEntry.objects.count()) == before


def test_the_same_alias_in_another_tenant_is_no_conflict(world: World, client_for) -> None:
    make_certificate(world.globex, "voice")
    response = client_for(world.alice).post(generate_url(), form_data(alias="voice"))
    assert response.status_code == 302, errors(response)


# --- Request from a CA ------------------------------------------------------------------------------------------------


def test_request_makes_a_waiting_key_and_shows_its_csr(world: World, client_for) -> None:
    client = client_for(world.alice)
    response = client.post(request_url(), form_data(days=""))
    waiting = CertificateRequest.objects.select_related("entry").get()
    assert response.status_code == 302
    assert response["Location"] == reverse("certificate-waiting", args=["acme", waiting.pk])
    assert not Certificate.objects.exists()
    assert waiting.tenant == world.acme and waiting.requested_by == world.alice and waiting.key_size == 2048
    assert waiting.subject_name == "Genesys Recording"
    assert AuditEntry.objects.get(action="certificate-requested").actor == world.alice

    page = client.get(response["Location"]).content.decode()
    assert "it waits for the CA&#x27;s certificate" in page
    assert "-----BEGIN CERTIFICATE REQUEST-----" in page
    assert reverse("certificate-waiting-csr", args=["acme", waiting.pk]) in page


def test_a_request_needs_no_validity(world: World, client_for) -> None:
    data = form_data()
    del data["days"]
    response = client_for(world.alice).post(request_url(), data)
    assert response.status_code == 302, errors(response)
    assert CertificateRequest.objects.count() == 1


@pytest.mark.parametrize(
    "change,field",
    [({"country": "USA"}, "country"), ({"common_name": ""}, "common_name"), ({"bits": "1024"}, "bits")],
)
def test_a_bad_request_is_refused_on_its_field_and_nothing_is_made(world: World, client_for, change, field) -> None:
    response = client_for(world.alice).post(request_url(), form_data(**change))
    assert response.status_code == 200
    assert list(errors(response)) == [field]
    assert nothing_made()


# --- Who may ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [generate_url, request_url])
@pytest.mark.parametrize("who,tenant,status", [("pat", "acme", 403), ("sam", "acme", 403), ("bob", "acme", 404)])
def test_only_the_tenants_administrators_generate(world: World, client_for, url, who, tenant, status) -> None:
    client = client_for(getattr(world, who))
    assert client.get(url(tenant)).status_code == status
    assert client.post(url(tenant), form_data()).status_code == status
    assert nothing_made()


def test_the_list_offers_generate_and_request_to_administrators_only(world: World, client_for) -> None:
    listing = reverse("certificate-list", args=["acme"])
    text = client_for(world.alice).get(listing).content.decode()
    assert f'href="{generate_url()}">Generate</a>' in text
    assert f'href="{request_url()}">Request from a CA</a>' in text
    for reader in (world.pat, world.sam):
        text = client_for(reader).get(listing).content.decode()
        assert generate_url() not in text and request_url() not in text
