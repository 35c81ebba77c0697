"""What ``generate_certificate`` and ``request_certificate`` make, read by real openssl: the certificate looks like
the one ``openssl req -new -x509`` makes for the same subject, the key in a keystore backup is the certificate's,
and the CSR verifies and names the subject asked for."""

import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from certificates.models import Certificate, CertificateRequest
from keystore import pfx
from tests.certificates import pki
from tests.certificates.keygen_cli import (
    SUBJECT_ARGS,
    certificate_modulus,
    export_backup,
    key_modulus_from_backup,
    openssl,
    run,
)

OPENSSL_SUBJECT = "/CN=Genesys Recording/C=US/ST=California/O=Genesys"
FULL_SUBJECT_ARGS = (
    *("--cn", "Genesys Recording", "--country", "US", "--state", "California", "--locality", "Daly City"),
    *("--org", "Genesys", "--org-unit", "Recording", "--email", "security@example.com"),
)
FULL_OPENSSL_SUBJECT = (
    "/CN=Genesys Recording/C=US/ST=California/L=Daly City/O=Genesys/OU=Recording/emailAddress=security@example.com"
)


@pytest.fixture(autouse=True)
def fast_backups(monkeypatch):
    """Backups here are read, not attacked: fewer key-derivation rounds keep the tests quick."""
    monkeypatch.setattr(pfx.contents, "ITERATIONS", 2048)


def line(text: str, label: str) -> str:
    [found] = re.findall(rf"^\s*{label}: ?(.*)$", text, re.M)
    return found.strip()


def extensions(text: str) -> dict[str, list[str]]:
    """Extension name (with ``critical``) -> its value lines, as ``openssl x509 -text`` prints them."""
    found: dict[str, list[str]] = {}
    section = text.split("X509v3 extensions:\n", 1)[1].split("Signature Algorithm:", 1)[0]
    current = ""
    for raw in section.splitlines():
        if re.match(r"^\s{12}X509v3 ", raw):
            current = raw.strip()
            found[current] = []
        elif current and raw.strip():
            found[current].append(raw.strip())
    return found


@pytest.fixture(scope="module")
def openssl_reference(tmp_path_factory) -> str:
    """What ``openssl req -new -x509`` makes for the seed's subject, as ``openssl x509 -text`` prints it."""
    folder = tmp_path_factory.mktemp("reference")
    openssl(
        "req", "-new", "-x509", "-subj", OPENSSL_SUBJECT, "-newkey", "rsa:2048", "-nodes", "-sha256",
        "-keyout", "reference.key", "-out", "reference.pem", "-days", "365", cwd=folder,
    )  # fmt: skip
    return openssl("x509", "-text", "-noout", "-in", str(folder / "reference.pem"))


def write_certificate(certificate: Certificate, folder: Path) -> Path:
    path = folder / "generated.pem"
    path.write_bytes(pki.pem(x509.load_der_x509_certificate(certificate.certificate_der)))
    return path


@pytest.mark.parametrize("bits", [None, 4096], ids=["default-3072", "4096"])
def test_the_generated_certificate_reads_like_openssl_req_x509(world, tmp_path, openssl_reference, bits):
    size = ["--bits", str(bits)] if bits else []
    run("generate_certificate", "--tenant", "acme", *SUBJECT_ARGS, "--days", "365", *size, "--alias", "voice")
    path = write_certificate(Certificate.objects.get(), tmp_path)
    text = openssl("x509", "-text", "-noout", "-in", str(path))

    assert line(text, "Version") == line(openssl_reference, "Version") == "3 (0x2)"
    assert line(text, "Subject") == line(openssl_reference, "Subject")
    assert line(text, "Subject") == "CN = Genesys Recording, C = US, ST = California, O = Genesys"
    assert line(text, "Issuer") == line(text, "Subject")
    assert re.findall(r"Signature Algorithm: (\S+)", text) == ["sha256WithRSAEncryption"] * 2
    assert line(text, "Public-Key") == f"({bits or 3072} bit)"
    ours, theirs = extensions(text), extensions(openssl_reference)
    assert (
        sorted(ours)
        == sorted(theirs)
        == [
            "X509v3 Authority Key Identifier:",
            "X509v3 Basic Constraints: critical",
            "X509v3 Subject Key Identifier:",
        ]
    )
    assert ours["X509v3 Basic Constraints: critical"] == ["CA:TRUE"]
    # The key identifiers are the SHA-1 of the public key, as openssl computes them; here they name the same key.
    assert (
        ours["X509v3 Authority Key Identifier:"][0].removeprefix("keyid:")
        == (ours["X509v3 Subject Key Identifier:"][0])
    )
    verified = openssl("verify", "-CAfile", str(path), str(path))
    assert verified.strip() == f"{path}: OK"


def test_the_key_in_a_keystore_backup_is_the_certificates(world, tmp_path, monkeypatch):
    run(
        "generate_certificate", "--tenant", "acme", *SUBJECT_ARGS, "--days", "30", "--bits", "2048",
        "--alias", "voice-2048",
    )  # fmt: skip
    certificate = Certificate.objects.get()
    backup = export_backup("acme", tmp_path, monkeypatch)
    modulus = key_modulus_from_backup(backup, "voice-2048")
    assert modulus == certificate_modulus(write_certificate(certificate, tmp_path))
    assert len(modulus.removeprefix("Modulus=")) == 2048 // 4


def test_the_csr_verifies_and_names_the_subject_asked_for(world, tmp_path):
    out = tmp_path / "voice.csr"
    printed = run("request_certificate", "--tenant", "acme", *FULL_SUBJECT_ARGS, "--bits", "2048", "--out", str(out))
    checked = _verify_request(out)
    assert "verify OK" in checked
    openssl(
        "req", "-new", "-subj", FULL_OPENSSL_SUBJECT, "-newkey", "rsa:2048", "-nodes", "-keyout", "ref.key",
        "-out", "reference.csr", cwd=tmp_path,
    )  # fmt: skip
    subject = openssl("req", "-noout", "-subject", "-in", str(out))
    assert subject == openssl("req", "-noout", "-subject", "-in", str(tmp_path / "reference.csr"))
    assert subject.strip() == (
        "subject=CN = Genesys Recording, C = US, ST = California, L = Daly City, O = Genesys, OU = Recording, "
        "emailAddress = security@example.com"
    )
    text = openssl("req", "-noout", "-text", "-in", str(out))
    assert line(text, "Public-Key") == "(2048 bit)"
    assert re.findall(r"Signature Algorithm: (\S+)", text) == ["sha256WithRSAEncryption"]
    waiting = CertificateRequest.objects.select_related("entry").get()
    assert f"Wrote the CSR for '{waiting.entry.alias}' to {out}" in printed
    assert not Certificate.objects.exists()


def test_the_csrs_key_is_the_waiting_key_in_the_backup(world, tmp_path, monkeypatch):
    out = tmp_path / "voice.csr"
    run("request_certificate", "--tenant", "acme", *SUBJECT_ARGS, "--bits", "2048", "--out", str(out))
    alias = CertificateRequest.objects.select_related("entry").get().entry.alias
    backup = export_backup("acme", tmp_path, monkeypatch)
    csr_modulus = openssl("req", "-noout", "-modulus", "-in", str(out)).strip()
    assert key_modulus_from_backup(backup, alias) == csr_modulus


def _verify_request(path: Path) -> str:
    """``openssl req -verify``: it must accept the signature (it says so on stderr or stdout, by version)."""
    done = subprocess.run(
        ["openssl", "req", "-verify", "-noout", "-in", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr
