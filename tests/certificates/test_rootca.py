"""Root CAs: a tenant's trusted roots, added and removed by its administrator, audited, with a warning when removal
strands certificates."""

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certificates.models import RootCA
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.factories import add_root, save_certificate


def add(client, data: bytes, slug: str = "acme"):
    return client.post(reverse("rootca-add", args=[slug]), {"certificate_file": SimpleUploadedFile("ca.pem", data)})


def error_of(response) -> str:
    found = re.search(r'<p class="field-error" role="alert">(.*?)</p>', response.content.decode(), re.S)
    return html.unescape(found[1]) if found else ""


@pytest.mark.parametrize("encoding", ["pem", "der"])
def test_add_a_root_ca(world, client_for, encoding):
    ca, _ = pki.make_ca("Acme Root CA")
    client = client_for(world.alice)
    response = add(client, getattr(pki, encoding)(ca))
    assert response.status_code == 302
    root = RootCA.objects.get()
    assert (root.tenant, root.subject_name, root.subject_dn) == (world.acme, "Acme Root CA", "CN=Acme Root CA,O=Acme")
    assert root.added_by == world.alice
    assert bytes(root.der) == pki.der(ca)
    entry = AuditEntry.objects.get(action="rootca-added")
    assert entry.details == {"subject": root.subject_dn, "fingerprint": root.sha256_fingerprint}
    listing = client.get(response["Location"]).content.decode()
    assert "Acme Root CA" in listing and root.sha256_fingerprint in listing


def test_refused_root_cas(world, client_for):
    client = client_for(world.alice)
    ca, ca_key = pki.make_ca("Acme Root CA")
    leaf, _ = pki.issue(ca, ca_key, "Not A CA")
    assert "'Not A CA' is not a CA certificate" in error_of(add(client, pki.pem(leaf)))
    assert "neither PEM nor DER" in error_of(add(client, b"hello"))
    assert error_of(client.post(reverse("rootca-add", args=["acme"]))) == (
        "Choose the root CA certificate file (PEM or DER)."
    )
    assert add(client, pki.pem(ca)).status_code == 302
    assert error_of(add(client, pki.pem(ca))) == "This root CA is already trusted in this tenant ('Acme Root CA')."
    assert RootCA.objects.count() == 1


def test_remove_warns_and_names_the_certificates_that_lose_their_trust(world, client_for):
    ca, ca_key = pki.make_ca("Acme Root CA")
    root = add_root(world.acme, ca)
    issued, issued_key = pki.issue(ca, ca_key, "Voice Recording")
    save_certificate(world.acme, issued, issued_key, alias="voice")
    save_certificate(world.acme, alias="self-signed")  # owes nothing to the root
    client = client_for(world.alice)
    url = reverse("rootca-remove", args=["acme", root.pk])

    confirm = client.get(url).content.decode()
    assert "will fail validation at their next use" in confirm
    assert ">voice</a>" in confirm and "self-signed" not in confirm
    assert RootCA.objects.exists()  # GET only asks

    response = client.post(url)
    assert response.status_code == 302
    assert not RootCA.objects.exists()
    entry = AuditEntry.objects.get(action="rootca-removed")
    assert entry.details == {
        "subject": "CN=Acme Root CA,O=Acme",
        "fingerprint": root.sha256_fingerprint,
        "certificates_losing_trust": ["voice"],
    }
    assert "&#x27;voice&#x27;" in client.get(response["Location"]).content.decode()


def test_remove_without_dependants_says_so(world, client_for):
    root = add_root(world.acme, pki.make_ca()[0])
    text = client_for(world.alice).get(reverse("rootca-remove", args=["acme", root.pk])).content.decode()
    assert "No recording certificate of this tenant depends on this root CA alone." in text


def test_a_second_root_with_the_same_name_keeps_certificates_trusted(world, client_for):
    # Re-keyed CA: same subject, new key. Certificates from the old key still need the old root.
    old_ca, old_key = pki.make_ca("Acme Root CA", key=pki.make_key(2048, 1))
    new_ca, _ = pki.make_ca("Acme Root CA", key=pki.make_key(2048, 4))
    old_root = add_root(world.acme, old_ca)
    add_root(world.acme, new_ca)
    issued, issued_key = pki.issue(old_ca, old_key)
    save_certificate(world.acme, issued, issued_key, alias="voice")
    text = client_for(world.alice).get(reverse("rootca-remove", args=["acme", old_root.pk])).content.decode()
    assert ">voice</a>" in text


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("bob", 404)])
def test_managing_root_cas_requires_the_right_role(world, client_for, who, status):
    root = add_root(world.acme, pki.make_ca()[0])
    client = client_for(getattr(world, who))
    assert client.get(reverse("rootca-add", args=["acme"])).status_code == status
    assert add(client, pki.pem(pki.make_ca("Other")[0])).status_code == status
    assert client.post(reverse("rootca-remove", args=["acme", root.pk])).status_code == status
    assert RootCA.objects.count() == 1


def test_readers_see_the_list_without_actions(world, client_for):
    root = add_root(world.acme, pki.make_ca()[0])
    for user in (world.pat, world.sam):
        text = client_for(user).get(reverse("rootca-list", args=["acme"])).content.decode()
        assert "Acme Root CA" in text
        assert reverse("rootca-remove", args=["acme", root.pk]) not in text
        assert reverse("rootca-add", args=["acme"]) not in text


def test_remove_checks_ownership(world, client_for):
    foreign = add_root(world.globex, pki.make_ca("Globex Root")[0])
    client = client_for(world.alice)
    assert client.get(reverse("rootca-remove", args=["acme", foreign.pk])).status_code == 404
    assert client.post(reverse("rootca-remove", args=["acme", foreign.pk])).status_code == 404
    assert RootCA.objects.filter(pk=foreign.pk).exists()


def test_root_ca_list_rejects_post(world, client_for):
    assert client_for(world.alice).post(reverse("rootca-list", args=["acme"])).status_code == 405
