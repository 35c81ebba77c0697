"""A key waiting for its CA's certificate: listed, shown with its CSR, the CSR downloaded, and the CA's certificate
uploaded from its page or from the Upload panel without a key file."""

import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certificates.models import Certificate, CertificateRequest
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.certificates.new_keys import signed_reply, waiting_key
from tests.conftest import World
from tests.factories import add_root, errors, post_upload, seed_files


@pytest.fixture
def acme_ca(world: World):
    """A CA whose root acme trusts."""
    ca_cert, ca_key = pki.make_ca("Acme Root CA")
    add_root(world.acme, ca_cert)
    return ca_cert, ca_key


def waiting_url(waiting: CertificateRequest) -> str:
    return reverse("certificate-waiting", args=[waiting.tenant.slug, waiting.pk])


def csr_url(waiting: CertificateRequest) -> str:
    return reverse("certificate-waiting-csr", args=[waiting.tenant.slug, waiting.pk])


def post_reply(client, waiting: CertificateRequest | None, data: bytes | None, name: str = "issued.pem"):
    form: dict = {"waiting": str(waiting.pk)} if waiting else {}
    if data is not None:
        form["certificate_file"] = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(reverse("certificate-reply", args=["acme"]), form)


def test_the_list_shows_keys_waiting_for_their_certificate(world: World, client_for) -> None:
    listing = reverse("certificate-list", args=["acme"])
    assert "Waiting for certificate" not in client_for(world.alice).get(listing).content.decode()
    waiting = waiting_key(world.acme, "Acme Recording", alias="acme-2026")
    waiting_key(world.globex, "Globex Recording", alias="globex-2026")
    for reader in (world.alice, world.pat, world.sam):
        text = client_for(reader).get(listing).content.decode()
        assert "Waiting for certificate" in text
        assert f'<a href="{waiting_url(waiting)}">acme-2026</a>' in text
        assert "Acme Recording" in text and "globex-2026" not in text


def test_the_waiting_page_shows_the_subject_and_csr_and_takes_the_reply(world: World, client_for) -> None:
    waiting = waiting_key(world.acme, "Acme Recording", alias="acme-2026")
    text = client_for(world.alice).get(waiting_url(waiting)).content.decode()
    assert "<h1>acme-2026</h1>" in text and "Waiting for certificate" in text
    assert waiting.subject_dn in text and "RSA 2048-bit private key" in text
    assert "-----BEGIN CERTIFICATE REQUEST-----" in text
    assert f'href="{csr_url(waiting)}">Download CSR</a>' in text
    assert reverse("certificate-reply", args=["acme"]) in text
    # Readers see the key and its CSR, not the upload form.
    text = client_for(world.pat).get(waiting_url(waiting)).content.decode()
    assert "-----BEGIN CERTIFICATE REQUEST-----" in text
    assert reverse("certificate-reply", args=["acme"]) not in text


def test_the_csr_downloads_as_a_pem_file_openssl_verifies(world: World, client_for, tmp_path: Path) -> None:
    waiting = waiting_key(world.acme, "Acme Recording", alias="Acme 2026")
    response = client_for(world.alice).get(csr_url(waiting))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkcs10"
    assert response["Content-Disposition"] == 'attachment; filename="acme-2026.csr"'
    (tmp_path / "acme-2026.csr").write_bytes(response.content)
    checked = subprocess.run(
        ["openssl", "req", "-in", "acme-2026.csr", "-verify", "-noout", "-subject"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "CN" in checked.stdout and "Acme Recording" in checked.stdout


def test_the_cas_certificate_made_with_openssl_activates_the_key(
    world: World, client_for, acme_ca, tmp_path: Path
) -> None:
    ca_cert, ca_key = acme_ca
    waiting = waiting_key(world.acme, "Acme Recording", alias="acme-2026")
    entry_id = waiting.entry_id
    client = client_for(world.alice)
    (tmp_path / "request.csr").write_bytes(client.get(csr_url(waiting)).content)
    (tmp_path / "ca.pem").write_bytes(pki.pem(ca_cert))
    (tmp_path / "ca.key").write_bytes(pki.key_pem_pkcs8(ca_key))
    subprocess.run(
        ["openssl", "x509", "-req", "-in", "request.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "365"]
        + ["-set_serial", "4242", "-out", "issued.pem"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )

    response = post_reply(client, waiting, (tmp_path / "issued.pem").read_bytes())
    saved = Certificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("certificate-detail", args=["acme", saved.pk])
    assert saved.entry_id == entry_id and saved.alias == "acme-2026" and saved.serial_number == "4242"
    assert not saved.is_self_signed and saved.chain_ok
    assert not CertificateRequest.objects.exists()
    assert AuditEntry.objects.get(action="certificate-issued").actor == world.alice
    page = client.get(response["Location"]).content.decode()
    assert "was matched to its key" in page
    assert "Waiting for certificate" not in client.get(reverse("certificate-list", args=["acme"])).content.decode()


def refused_reply(response, waiting: CertificateRequest) -> str:
    """The message of a refused reply, after checking that nothing changed."""
    assert response.status_code == 200
    assert not Certificate.objects.exists()
    assert CertificateRequest.objects.filter(pk=waiting.pk).exists()
    assert not AuditEntry.objects.filter(action="certificate-issued").exists()
    found = errors(response)
    assert list(found) == ["certificate_file"]
    return found["certificate_file"]


def test_a_certificate_for_another_key_is_refused(world: World, client_for, acme_ca) -> None:
    ca_cert, ca_key = acme_ca
    waiting = waiting_key(world.acme)
    other, _ = pki.issue(ca_cert, ca_key, "Acme Recording")
    response = post_reply(client_for(world.alice), waiting, pki.pem(other))
    assert refused_reply(response, waiting) == (
        "This certificate matches no key waiting for a certificate in this tenant."
    )
    assert "-----BEGIN CERTIFICATE REQUEST-----" in response.content.decode()  # still on the waiting page


def test_a_certificate_from_a_ca_the_tenant_does_not_trust_is_refused(world: World, client_for) -> None:
    ca_cert, ca_key = pki.make_ca("Unknown Root CA")
    waiting = waiting_key(world.acme)
    response = post_reply(client_for(world.alice), waiting, pki.pem(signed_reply(waiting, ca_cert, ca_key)))
    assert refused_reply(response, waiting)


def test_a_reply_needs_a_file(world: World, client_for) -> None:
    waiting = waiting_key(world.acme)
    response = post_reply(client_for(world.alice), waiting, None)
    assert refused_reply(response, waiting) == "Choose the certificate file the CA sent (PEM or DER)."


def test_a_key_file_sent_as_the_reply_is_named_for_what_it_is(world: World, client_for) -> None:
    waiting = waiting_key(world.acme)
    _, key = seed_files()
    response = post_reply(client_for(world.alice), waiting, key, name="tenant.key")
    assert refused_reply(response, waiting).startswith("This is a private key, not a certificate.")


def test_a_reply_whose_key_was_answered_meanwhile_is_refused_on_the_upload_panel(
    world: World, client_for, acme_ca
) -> None:
    ca_cert, ca_key = acme_ca
    waiting = waiting_key(world.acme)
    reply = pki.pem(signed_reply(waiting, ca_cert, ca_key))
    client = client_for(world.alice)
    assert post_reply(client, waiting, reply).status_code == 302
    again = post_reply(client, waiting, reply)
    assert again.status_code == 200
    assert list(errors(again)) == ["certificate_file"]
    assert "Upload Certificate" in again.content.decode()
    assert Certificate.objects.count() == 1


def test_the_upload_panel_takes_the_cas_certificate_without_a_key_file(world: World, client_for, acme_ca) -> None:
    ca_cert, ca_key = acme_ca
    waiting = waiting_key(world.acme, alias="acme-2026")
    client = client_for(world.alice)
    assert "Not needed for the CA's certificate of a key waiting here" in (
        client.get(reverse("certificate-upload", args=["acme"])).content.decode()
    )
    response = post_upload(client, "acme", pki.pem(signed_reply(waiting, ca_cert, ca_key)), None)
    saved = Certificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("certificate-detail", args=["acme", saved.pk])
    assert saved.entry_id == waiting.entry_id and saved.alias == "acme-2026"
    assert not CertificateRequest.objects.exists()


def test_the_upload_panel_still_needs_a_key_for_any_other_certificate(world: World, client_for, acme_ca) -> None:
    waiting_key(world.acme)
    cert, _ = seed_files()
    response = post_upload(client_for(world.alice), "acme", cert, None)
    assert errors(response) == {"key_file": "Choose the private key file that belongs to the certificate."}
    assert not Certificate.objects.exists() and CertificateRequest.objects.count() == 1


def test_another_tenants_waiting_key_is_out_of_reach(world: World, client_for, acme_ca) -> None:
    ca_cert, ca_key = acme_ca
    foreign = waiting_key(world.globex)
    client = client_for(world.alice)
    for url in (
        reverse("certificate-waiting", args=["acme", foreign.pk]),
        reverse("certificate-waiting-csr", args=["acme", foreign.pk]),
    ):
        assert client.get(url).status_code == 404
    # Its CA's certificate, even from a CA acme trusts, matches no key of acme's.
    response = post_reply(client, None, pki.pem(signed_reply(foreign, ca_cert, ca_key)))
    assert errors(response) == {
        "certificate_file": "This certificate matches no key waiting for a certificate in this tenant."
    }
    assert CertificateRequest.objects.get() == foreign and not Certificate.objects.exists()


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("bob", 404)])
def test_only_administrators_upload_the_reply(world: World, client_for, acme_ca, who, status) -> None:
    ca_cert, ca_key = acme_ca
    waiting = waiting_key(world.acme)
    response = post_reply(client_for(getattr(world, who)), waiting, pki.pem(signed_reply(waiting, ca_cert, ca_key)))
    assert response.status_code == status
    assert CertificateRequest.objects.count() == 1 and not Certificate.objects.exists()


def test_the_waiting_pages_are_read_only(world: World, client_for) -> None:
    waiting = waiting_key(world.acme)
    client = client_for(world.alice)
    assert client.post(waiting_url(waiting)).status_code == 405
    assert client.post(csr_url(waiting)).status_code == 405
    assert client.get(reverse("certificate-reply", args=["acme"])).status_code == 405


def test_the_csr_is_the_waiting_keys(world: World, client_for) -> None:
    waiting = waiting_key(world.acme)
    csr = x509.load_pem_x509_csr(client_for(world.pat).get(csr_url(waiting)).content)
    assert csr.is_signature_valid
    assert csr.public_key() == x509.load_der_x509_certificate(bytes(waiting.entry.certificate_der)).public_key()
