"""Files made with exactly the seed's OpenSSL commands go through the upload panel, and the fields it shows are what
``openssl x509 -noout -subject -issuer -serial`` prints."""

import subprocess
from pathlib import Path

import pytest

from certificates.models import Certificate
from tests.factories import post_preview, post_upload

SEED_SUBJ = "/CN=Genesys Recording/C=US/ST=California/O=Genesys"
KEY_PASSWORD = "seed-key-passphrase-42"


def openssl(*args: str, cwd: Path) -> str:
    return subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory) -> Path:
    """tenant.key, tenant.pem and private.pem as the seed makes them, plus an encrypted PKCS#8 key, a legacy
    encrypted RSA key and the certificate in DER."""
    folder = tmp_path_factory.mktemp("seed")
    openssl("genrsa", "-out", "tenant.key", "2048", cwd=folder)
    openssl(
        "req",
        "-new",
        "-x509",
        "-key",
        "tenant.key",
        "-out",
        "tenant.pem",
        "-days",
        "3650",
        "-subj",
        SEED_SUBJ,
        cwd=folder,
    )
    openssl(
        "pkcs8",
        "-topk8",
        "-inform",
        "pem",
        "-in",
        "tenant.key",
        "-outform",
        "pem",
        "-nocrypt",
        "-out",
        "private.pem",
        cwd=folder,
    )
    openssl(
        "pkcs8", "-topk8", "-in", "tenant.key", "-out", "encrypted.pem", "-passout", f"pass:{KEY_PASSWORD}", cwd=folder
    )
    openssl("rsa", "-in", "tenant.key", "-traditional", "-out", "traditional.key", cwd=folder)
    openssl(
        "rsa",
        "-in",
        "tenant.key",
        "-traditional",
        "-aes256",
        "-passout",
        f"pass:{KEY_PASSWORD}",
        "-out",
        "legacy.key",
        cwd=folder,
    )
    openssl("x509", "-in", "tenant.pem", "-outform", "DER", "-out", "tenant.der", cwd=folder)
    return folder


def openssl_fields(folder: Path) -> dict[str, str]:
    """subject=CN = Genesys Recording, C = US, ... as openssl prints it, closed up to the seed's CN=...,C=... form."""
    printed = openssl("x509", "-in", "tenant.pem", "-noout", "-subject", "-issuer", "-serial", cwd=folder)
    fields = dict(line.split("=", 1) for line in printed.strip().splitlines())
    close_up = lambda dn: dn.strip().replace(" = ", "=").replace(", ", ",")  # noqa: E731
    return {"subject": close_up(fields["subject"]), "issuer": close_up(fields["issuer"]), "serial": fields["serial"]}


def test_seed_files_fill_the_fields_as_openssl_prints_them(world, client_for, seed_files):
    expected = openssl_fields(seed_files)
    certificate = (seed_files / "tenant.pem").read_bytes()
    body = post_preview(client_for(world.alice), "acme", certificate, (seed_files / "tenant.key").read_bytes()).json()
    shown = body["certificate"]
    assert shown["subject_dn"] == expected["subject"] == "CN=Genesys Recording,C=US,ST=California,O=Genesys"
    assert shown["issuer_dn"] == expected["issuer"]
    assert int(shown["serial_number"]) == int(expected["serial"], 16)
    assert shown["subject_name"] == "Genesys Recording"
    # OpenSSL 3's genrsa writes PKCS#8.
    assert body["key_details"] == "PKCS#8 private key, RSA 2048 bits"
    assert body["errors"] == {}


@pytest.mark.parametrize(
    "certificate,key,password,details",
    [
        ("tenant.pem", "tenant.key", "", "PKCS#8 private key, RSA 2048 bits"),
        ("tenant.pem", "private.pem", "", "PKCS#8 private key, RSA 2048 bits"),
        ("tenant.pem", "traditional.key", "", "OpenSSL RSA private key, RSA 2048 bits"),
        ("tenant.pem", "encrypted.pem", KEY_PASSWORD, "Encrypted PKCS#8 private key, RSA 2048 bits"),
        (
            "tenant.pem",
            "legacy.key",
            KEY_PASSWORD,
            "Legacy encrypted OpenSSL RSA private key (DEK-Info), RSA 2048 bits",
        ),
        ("tenant.der", "private.pem", "", "PKCS#8 private key, RSA 2048 bits"),
    ],
)
def test_seed_files_upload(world, client_for, seed_files, certificate, key, password, details):
    client = client_for(world.alice)
    cert_data, key_data = (seed_files / certificate).read_bytes(), (seed_files / key).read_bytes()
    assert post_preview(client, "acme", None, key_data, password=password).json()["key_details"] == details
    response = post_upload(client, "acme", cert_data, key_data, password=password, cert_name=certificate, key_name=key)
    assert response.status_code == 302
    saved = Certificate.objects.get()
    expected = openssl_fields(seed_files)
    assert saved.subject_dn == expected["subject"]
    assert saved.serial_hex == expected["serial"]
    fingerprint = openssl("x509", "-in", "tenant.pem", "-noout", "-fingerprint", "-sha256", cwd=seed_files)
    assert saved.sha256_fingerprint == fingerprint.strip().split("=", 1)[1]


def test_seed_key_with_wrong_password(world, client_for, seed_files):
    response = post_upload(
        client_for(world.alice),
        "acme",
        (seed_files / "tenant.pem").read_bytes(),
        (seed_files / "encrypted.pem").read_bytes(),
        password="not-it",
    )
    assert "The Private Key Password is wrong" in response.content.decode()
    assert not Certificate.objects.exists()
