"""The Upload Certificate panel through the test client: what is accepted, what is refused and with which message,
and that nothing is half-saved or echoed back."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.test import override_settings
from django.urls import reverse

from certificates.models import Certificate
from keystore.models import KeystoreEntry
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.factories import errors, post_preview, post_upload, seed_files

PASSWORD = "Tr0ub4dor&3-recording"


def nothing_saved() -> bool:
    return (
        not Certificate.objects.exists()
        and not KeystoreEntry.objects.exists()
        and not AuditEntry.objects.filter(action="certificate-uploaded").exists()
    )


def legacy_encrypted_pem(key, password: str) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(password.encode()),
    )


# --- Accepted ---------------------------------------------------------------------------------------------------------


def test_seed_certificate_and_key_are_saved_and_listed(world, client_for):
    client = client_for(world.alice)
    cert, key = seed_files()
    response = post_upload(client, "acme", cert, key)
    assert response.status_code == 302
    assert response["Location"] == reverse("certificate-list", args=["acme"])

    saved = Certificate.objects.select_related("entry").get()
    assert saved.tenant == world.acme
    assert saved.alias == "genesys-recording"
    assert saved.subject_name == "Genesys Recording"
    assert saved.subject_dn == pki.SEED_SUBJECT_DN
    assert saved.issuer_dn == pki.SEED_SUBJECT_DN
    assert saved.is_self_signed and saved.chain_ok
    assert saved.uploaded_by == world.alice
    # The private key went into the keystore, sealed: the key's PEM body is nowhere in the stored bytes.
    key_body = b"".join(key.splitlines()[1:-1])[:40]
    assert key_body not in bytes(saved.entry.sealed_private_key)
    assert bytes(saved.entry.certificate_der) == pki.der(x509.load_pem_x509_certificate(cert))

    page = client.get(response["Location"])
    text = page.content.decode()
    assert "genesys-recording" in text and saved.serial_number in text
    assert "and its private key were saved" in text

    entry = AuditEntry.objects.get(action="certificate-uploaded")
    assert entry.actor == world.alice and entry.tenant == world.acme
    assert entry.details["alias"] == "genesys-recording"
    assert entry.details["serial"] == saved.serial_number
    assert entry.details["fingerprint"] == saved.sha256_fingerprint
    assert "PRIVATE" not in str(entry.details)


@pytest.mark.parametrize(
    "fmt,expected_kind,password",
    [
        ("traditional", "OpenSSL RSA private key", ""),
        ("legacy-encrypted", "Legacy encrypted OpenSSL RSA private key (DEK-Info)", PASSWORD),
        ("pkcs8", "PKCS#8 private key", ""),
        ("pkcs8-encrypted", "Encrypted PKCS#8 private key", PASSWORD),
        ("pkcs8-der", "PKCS#8 private key (DER)", ""),
        ("pkcs8-encrypted-der", "Encrypted PKCS#8 private key (DER)", PASSWORD),
        ("traditional-der", "OpenSSL RSA private key (DER)", ""),
    ],
)
def test_every_key_format_is_accepted_and_described(world, client_for, fmt, expected_kind, password):
    cert, key = pki.make_self_signed(pki.make_key(2048, 0))
    key_file = {
        "traditional": lambda: pki.key_pem_traditional(key),
        "legacy-encrypted": lambda: legacy_encrypted_pem(key, PASSWORD),
        "pkcs8": lambda: pki.key_pem_pkcs8(key),
        "pkcs8-encrypted": lambda: pki.key_pem_pkcs8_encrypted(key, PASSWORD),
        "pkcs8-der": lambda: pki.key_der_pkcs8(key),
        "pkcs8-encrypted-der": lambda: pki.key_der_pkcs8(key, PASSWORD.encode()),
        "traditional-der": lambda: pki.key_der_traditional(key),
    }[fmt]()
    client = client_for(world.alice)
    preview = post_preview(client, "acme", None, key_file, password=password).json()
    assert preview["key_details"] == f"{expected_kind}, RSA 2048 bits"
    assert preview["errors"] == {}
    response = post_upload(client, "acme", pki.pem(cert), key_file, password=password)
    assert response.status_code == 302, errors(response)
    assert Certificate.objects.count() == 1


def test_encrypted_key_is_described_before_its_password_is_known(world, client_for):
    cert, key = pki.make_self_signed()
    preview = post_preview(client_for(world.alice), "acme", None, pki.key_pem_pkcs8_encrypted(key, PASSWORD)).json()
    assert preview["key_details"] == "Encrypted PKCS#8 private key"
    assert preview["errors"] == {}


def test_der_certificate_is_accepted(world, client_for):
    cert, key = pki.make_self_signed()
    response = post_upload(client_for(world.alice), "acme", pki.der(cert), pki.key_pem_pkcs8(key), cert_name="t.cer")
    assert response.status_code == 302
    assert Certificate.objects.get().serial_number == str(cert.serial_number)


def test_expired_certificate_is_accepted_for_playback_only(world, client_for):
    start = datetime.now(UTC) - timedelta(days=800)
    cert, key = pki.make_self_signed(not_before=start, days=365)
    client = client_for(world.alice)
    response = post_upload(client, "acme", pki.pem(cert), pki.key_pem_pkcs8(key))
    assert response.status_code == 302
    text = client.get(response["Location"]).content.decode()
    assert "It is kept for playback of older recordings only" in text
    assert "Expired — playback only" in text


def test_not_yet_valid_certificate_is_accepted_and_marked_unusable(world, client_for):
    start = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    cert, key = pki.make_self_signed(not_before=start)
    client = client_for(world.alice)
    response = post_upload(client, "acme", pki.pem(cert), pki.key_pem_pkcs8(key))
    assert response.status_code == 302
    text = client.get(response["Location"]).content.decode()
    assert f"Not yet valid — unusable for recording until {start:%Y-%m-%d %H:%M} UTC" in text
    assert "it cannot be used for recording until then" in text


def test_certificate_issued_by_a_tenant_root_ca_is_accepted(world, client_for):
    ca, ca_key = pki.make_ca()
    cert, key = pki.issue(ca, ca_key)
    client = client_for(world.alice)
    refused = post_upload(client, "acme", pki.pem(cert), pki.key_pem_pkcs8(key))
    assert errors(refused)["certificate_file"] == (
        "Issuer 'CN=Acme Root CA,O=Acme' is not one of this tenant's trusted root CAs."
    )
    assert nothing_saved()
    client.post(reverse("rootca-add", args=["acme"]), {"certificate_file": _file(pki.pem(ca))})
    accepted = post_upload(client, "acme", pki.pem(cert), pki.key_pem_pkcs8(key))
    assert accepted.status_code == 302
    saved = Certificate.objects.get()
    assert saved.chain_ok and not saved.is_self_signed
    assert saved.chain_reason == "Issued by trusted root CA 'Acme Root CA'."


def _file(data: bytes, name: str = "file.pem"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


# --- Refused: one clear message where it belongs, nothing saved -------------------------------------------------------


def _bad_certificates():
    cert, key = pki.make_self_signed()
    ca, ca_key = pki.make_ca()
    ec_key = pki.make_ec_key()
    ec_cert, _ = pki.make_self_signed(ec_key)
    small_cert, _ = pki.make_self_signed(pki.make_key(1024, 0))
    return [
        ("private key", pki.key_pem_traditional(key), "This is a private key, not a certificate"),
        ("CSR", pki.make_csr(), "certificate signing request (CSR)"),
        ("CRL", pki.make_crl(ca, ca_key), "certificate revocation list (CRL)"),
        ("PKCS#12", pki.make_p12(key, cert, b"pw"), "PKCS#12 (.pfx/.p12) bundle"),
        ("plain text", b"Hello, this is just a note.\n", "neither PEM nor DER"),
        ("binary", bytes(range(256)) * 4, "neither PEM nor DER"),
        ("chain", pki.pem(cert) + pki.pem(ca), "holds 2 certificates"),
        ("EC", pki.pem(ec_cert), "The certificate's key is EC"),
        ("RSA 1024", pki.pem(small_cert), "RSA key is 1024 bits; at least 2048"),
        ("empty", b"", "The file is empty."),
    ]


@pytest.mark.parametrize("index", range(10), ids=[c[0] for c in _bad_certificates()])
def test_bad_certificate_file_gets_its_message(world, client_for, index):
    name, data, message = _bad_certificates()[index]
    _, key = pki.make_self_signed()
    client = client_for(world.alice)
    response = post_upload(client, "acme", data, pki.key_pem_pkcs8(key))
    assert response.status_code == 200
    assert message in errors(response)["certificate_file"]
    assert nothing_saved()
    # The preview says the same before Save.
    assert message in post_preview(client, "acme", data, None).json()["errors"]["certificate_file"]


def test_ed25519_certificate_is_refused(world, client_for):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    cert, _ = pki.make_self_signed(ed25519.Ed25519PrivateKey.generate())
    response = post_upload(client_for(world.alice), "acme", pki.pem(cert), pki.key_pem_pkcs8(pki.make_key()))
    assert "The certificate's key is Ed25519" in errors(response)["certificate_file"]
    assert nothing_saved()


def test_key_file_problems(world, client_for):
    cert, key = pki.make_self_signed()
    other_key = pki.make_key(2048, 5)
    client = client_for(world.alice)
    cases = [
        (pki.key_pem_pkcs8(other_key), "", "key_file", "The private key does not belong to this certificate."),
        (pki.key_pem_pkcs8(pki.make_ec_key()), "", "key_file", "The key is EC"),
        (pki.key_pem_pkcs8(pki.make_key(1024, 0)), "", "key_file", "The RSA key is 1024 bits"),
        (pki.pem(cert), "", "key_file", "This is a certificate, not a private key"),
        (pki.key_pem_pkcs8_encrypted(key, PASSWORD), "", "key_password", "enter its Private Key Password"),
        (pki.key_pem_pkcs8_encrypted(key, PASSWORD), "wrong", "key_password", "The Private Key Password is wrong"),
        (legacy_encrypted_pem(key, PASSWORD), "wrong", "key_password", "The Private Key Password is wrong"),
    ]
    for key_file, password, field, message in cases:
        response = post_upload(client, "acme", pki.pem(cert), key_file, password=password)
        shown = errors(response)
        assert message in shown.get(field, ""), (message, shown)
        assert "certificate_file" not in shown
    assert nothing_saved()


def test_missing_files_are_named(world, client_for):
    response = post_upload(client_for(world.alice), "acme", None, None)
    shown = errors(response)
    assert shown["certificate_file"] == "Choose the certificate file (PEM or DER)."
    assert shown["key_file"] == "Choose the private key file that belongs to the certificate."


def test_certificate_and_key_problems_are_shown_together(world, client_for):
    response = post_upload(client_for(world.alice), "acme", b"not a cert", b"not a key")
    shown = errors(response)
    assert "neither PEM nor DER" in shown["certificate_file"]
    assert "not a private key" in shown["key_file"]


@override_settings(PORTAL_MAX_UPLOAD_BYTES=4096)
def test_files_too_large_are_refused(world, client_for):
    cert, key = seed_files()
    client = client_for(world.alice)
    response = post_upload(client, "acme", cert + b"\n" * 5000, key + b"\n" * 5000)
    shown = errors(response)
    assert shown["certificate_file"].startswith("The certificate file is larger than 4 KB")
    assert shown["key_file"].startswith("The key file is larger than 4 KB")
    assert nothing_saved()


def test_same_certificate_twice_names_the_existing_alias(world, client_for):
    cert, key = seed_files()
    client = client_for(world.alice)
    assert post_upload(client, "acme", cert, key, alias="voice-2025").status_code == 302
    response = post_upload(client, "acme", cert, key, alias="another")
    assert (
        errors(response)["certificate_file"] == "This certificate is already uploaded in this tenant as 'voice-2025'."
    )
    assert Certificate.objects.count() == 1
    # Another tenant may hold the same certificate.
    assert post_upload(client_for(world.bob), "globex", cert, key).status_code == 302


def test_alias_is_proposed_unique_and_checked(world, client_for):
    client = client_for(world.alice)
    first_cert, first_key = seed_files(key_index=0)
    second_cert, second_key = seed_files(key_index=3)
    assert post_upload(client, "acme", first_cert, first_key).status_code == 302
    assert post_preview(client, "acme", second_cert, None).json()["alias"] == "genesys-recording-2"
    taken = post_upload(client, "acme", second_cert, second_key, alias="GENESYS-Recording")
    assert errors(taken)["alias"] == (
        "The alias 'GENESYS-Recording' is already used in this keystore (aliases ignore case)."
    )
    bad = post_upload(client, "acme", second_cert, second_key, alias="<script>")
    assert "Use letters, digits" in errors(bad)["alias"]
    too_long = post_upload(client, "acme", second_cert, second_key, alias="a" * 65)
    assert errors(too_long)["alias"] == "The alias is longer than 64 characters."  # the keystore's words
    assert post_upload(client, "acme", second_cert, second_key).status_code == 302
    assert sorted(KeystoreEntry.objects.values_list("alias", flat=True)) == ["genesys-recording", "genesys-recording-2"]


def test_password_and_key_are_never_sent_back(world, client_for):
    cert, key = pki.make_self_signed()
    encrypted = pki.key_pem_pkcs8_encrypted(key, PASSWORD)
    client = client_for(world.alice)
    secret_lines = [line for line in encrypted.decode().splitlines() if "-----" not in line]
    for response in (
        post_upload(client, "acme", pki.pem(cert), encrypted, password="wrong-" + PASSWORD),
        post_upload(client, "acme", pki.pem(cert), encrypted, password=PASSWORD, alias="<bad>"),
        post_upload(client, "acme", pki.pem(cert), encrypted, password=PASSWORD, preview="1"),
    ):
        text = response.content.decode()
        assert PASSWORD not in text
        assert not any(line in text for line in secret_lines)
        password_field = re.search(r'<input[^>]*name="key_password"[^>]*>', text)
        assert password_field and 'value="' not in password_field[0]


# --- Without JavaScript -----------------------------------------------------------------------------------------------


def test_read_file_button_fills_the_fields_then_save_needs_only_the_key(world, client_for):
    cert, key = pki.make_self_signed()
    client = client_for(world.alice)
    response = post_upload(client, "acme", pki.pem(cert), pki.key_pem_pkcs8(key), preview="1")
    text = response.content.decode()
    assert not Certificate.objects.exists()
    for field, value in (
        ("subject_name", "Genesys Recording"),
        ("serial_number", str(cert.serial_number)),
        ("subject_dn", pki.SEED_SUBJECT_DN),
        ("issuer_dn", pki.SEED_SUBJECT_DN),
        ("key_details", "PKCS#8 private key, RSA 2048 bits"),
    ):
        assert re.search(rf'id="{field}" readonly value="{re.escape(html.escape(value))}"', text), field
    assert 'value="genesys-recording"' in text  # the proposed alias
    carried_field = re.search(r'name="certificate_pem" value="([^"]*)"', text)
    assert carried_field, "the certificate is not carried to the next step"
    carried = carried_field[1]
    assert "BEGIN CERTIFICATE" in html.unescape(carried)

    saved = post_upload(client, "acme", None, pki.key_pem_pkcs8(key), certificate_pem=html.unescape(carried))
    assert saved.status_code == 302
    assert Certificate.objects.get().serial_number == str(cert.serial_number)


def test_preview_url_without_json_answers_with_the_page(world, client_for):
    cert, _ = pki.make_self_signed()
    response = client_for(world.alice).post(
        reverse("certificate-preview", args=["acme"]), {"certificate_file": _file(pki.pem(cert))}
    )
    assert response["Content-Type"].startswith("text/html")
    assert 'id="subject_name" readonly value="Genesys Recording"' in response.content.decode()


def test_preview_json_fields(world, client_for):
    cert, key = pki.make_self_signed()
    body = post_preview(client_for(world.alice), "acme", pki.pem(cert), pki.key_pem_traditional(key)).json()
    assert body["certificate"]["subject_name"] == "Genesys Recording"
    assert body["certificate"]["serial_number"] == str(cert.serial_number)
    assert body["certificate"]["subject_dn"] == body["certificate"]["issuer_dn"] == pki.SEED_SUBJECT_DN
    assert body["certificate"]["status"] == "Valid"
    assert body["key_details"] == "OpenSSL RSA private key, RSA 2048 bits"
    assert body["errors"] == {}


def test_preview_reports_a_key_that_does_not_match(world, client_for):
    cert, _ = pki.make_self_signed()
    body = post_preview(client_for(world.alice), "acme", pki.pem(cert), pki.key_pem_pkcs8(pki.make_key(2048, 6))).json()
    assert body["errors"] == {"key_file": "The private key does not belong to this certificate."}
    assert body["certificate"]["subject_name"] == "Genesys Recording"


# --- Who may ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("bob", 404), ("charlie", 404)])
def test_upload_requires_the_right_role(world, client_for, who, status):
    client = client_for(getattr(world, who))
    cert, key = seed_files()
    assert client.get(reverse("certificate-upload", args=["acme"])).status_code == status
    assert post_upload(client, "acme", cert, key).status_code == status
    assert post_preview(client, "acme", cert, key).status_code == status
    assert nothing_saved()


def test_preview_rejects_get(world, client_for):
    assert client_for(world.alice).get(reverse("certificate-preview", args=["acme"])).status_code == 405


def test_upload_page_has_the_seed_fields(world, client_for):
    text = client_for(world.alice).get(reverse("certificate-upload", args=["acme"])).content.decode()
    for label in (
        "Certificate File *",
        "Subject Name",
        "Serial Number",
        "Subject DN",
        "Issuer DN",
        "Key File *",
        "Key Details",
        "Private Key Password",
        "Alias",
    ):
        assert f">{label}</label>" in text, label
    assert ">Save</button>" in text and ">Cancel</a>" in text
