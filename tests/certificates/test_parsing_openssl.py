"""certificates.x509.parsing against openssl: the seed's own commands make the files, and what the parser reports is
compared with what openssl prints for the same file."""

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from certificates.x509 import parsing
from certificates.x509.chain import ChainResult, verify_chain
from certificates.x509.parsing import parse_certificate, parse_root_ca

from . import pki
from .parsing_helpers import rejected

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


def openssl(*args: str, cwd: Path) -> str:
    # Only the final newline goes: a DN can end in an escaped space.
    return subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.rstrip("\n")


def closed_up(openssl_dn: str) -> str:
    """openssl's default ``-subject`` ("CN = a, C = US") in this module's format ("CN=a,C=US")."""
    return openssl_dn.replace(" = ", "=").replace(", ", ",")


# --- The seed's files, made by the seed's commands ---------------------------------------------------------------


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if OPENSSL is None:
        pytest.skip("openssl is not installed")
    cwd = tmp_path_factory.mktemp("seed")
    openssl("genrsa", "-out", "tenant.key", "2048", cwd=cwd)
    openssl(
        "req", "-new", "-x509", "-key", "tenant.key", "-out", "tenant.pem", "-days", "3650",
        "-subj", "/CN=Genesys Recording/C=US/ST=California/O=Genesys",
        cwd=cwd,
    )  # fmt: skip
    openssl(
        "pkcs8", "-topk8", "-inform", "pem", "-in", "tenant.key", "-outform", "pem", "-nocrypt", "-out", "private.pem",
        cwd=cwd,
    )  # fmt: skip
    openssl("x509", "-in", "tenant.pem", "-outform", "der", "-out", "tenant.der", cwd=cwd)
    return cwd


def test_seed_certificate_matches_what_openssl_prints(seed: Path) -> None:
    parsed = parse_certificate((seed / "tenant.pem").read_bytes())

    subject = openssl("x509", "-in", "tenant.pem", "-noout", "-subject", cwd=seed).removeprefix("subject=")
    issuer = openssl("x509", "-in", "tenant.pem", "-noout", "-issuer", cwd=seed).removeprefix("issuer=")
    serial = openssl("x509", "-in", "tenant.pem", "-noout", "-serial", cwd=seed).removeprefix("serial=")
    fingerprint = openssl("x509", "-in", "tenant.pem", "-noout", "-fingerprint", "-sha256", cwd=seed)
    assert parsed.subject_dn == closed_up(subject) == pki.SEED_SUBJECT_DN
    assert parsed.issuer_dn == closed_up(issuer) == pki.SEED_SUBJECT_DN
    for option in ("-subject", "-issuer"):
        exact = openssl("x509", "-in", "tenant.pem", "-noout", option, "-nameopt", "RFC2253,-dn_rev,-esc_msb", cwd=seed)
        assert exact.split("=", 1)[1] == pki.SEED_SUBJECT_DN
    assert parsed.serial_number == int(serial, 16)
    assert parsed.serial_hex == serial
    assert parsed.sha256_fingerprint == fingerprint.split("=", 1)[1]
    assert parsed.subject_name == "Genesys Recording"
    assert parsed.suggested_alias == "genesys-recording"
    assert (parsed.key_type, parsed.key_size) == ("RSA", 2048)
    assert parsed.signature_algorithm == "sha256WithRSAEncryption"
    assert parsed.is_self_signed


def test_seed_certificate_dates_and_extensions_match_openssl(seed: Path) -> None:
    parsed = parse_certificate((seed / "tenant.pem").read_bytes())

    dates = dict(
        line.split("=", 1) for line in openssl("x509", "-in", "tenant.pem", "-noout", "-dates", cwd=seed).splitlines()
    )
    assert parsed.not_valid_before == datetime.strptime(dates["notBefore"], "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)
    assert parsed.not_valid_after == datetime.strptime(dates["notAfter"], "%b %d %H:%M:%S %Y GMT").replace(tzinfo=UTC)
    assert parsed.not_valid_after - parsed.not_valid_before == timedelta(days=3650)
    text = openssl("x509", "-in", "tenant.pem", "-noout", "-text", cwd=seed)
    for name, value in parsed.extensions:
        assert f"X509v3 {name}:" in text
        if name in ("Subject Key Identifier", "Authority Key Identifier"):
            assert value in text
    assert ("Basic Constraints", "CA: true (critical)") in parsed.extensions  # openssl req -x509's default v3_ca


def test_seed_certificate_der_and_text_dump_read_the_same(seed: Path) -> None:
    from_pem = parse_certificate((seed / "tenant.pem").read_bytes())
    dumped = subprocess.run(
        ["openssl", "x509", "-in", "tenant.pem", "-text"], cwd=seed, check=True, capture_output=True
    ).stdout

    assert dumped.startswith(b"Certificate:")
    assert parse_certificate((seed / "tenant.der").read_bytes()) == from_pem
    assert parse_certificate(dumped) == from_pem
    assert from_pem.der == (seed / "tenant.der").read_bytes()
    assert from_pem.pem.encode() == (seed / "tenant.pem").read_bytes()


@pytest.mark.parametrize("name", ["tenant.key", "private.pem"])
def test_seed_key_files_are_refused_as_private_keys(seed: Path, name: str) -> None:
    assert rejected((seed / name).read_bytes()) == parsing.MSG_PRIVATE_KEY


@pytest.mark.parametrize(
    "command",
    [
        ["rsa", "-in", "tenant.key", "-outform", "der"],
        ["pkcs8", "-topk8", "-in", "tenant.key", "-outform", "der", "-nocrypt"],
        ["pkcs8", "-topk8", "-in", "tenant.key", "-outform", "der", "-v2", "aes-256-cbc", "-passout", "pass:secret"],
    ],
    ids=["traditional", "pkcs8", "pkcs8-encrypted"],
)
def test_der_private_keys_are_recognised(seed: Path, command: list[str]) -> None:
    data = subprocess.run(["openssl", *command], cwd=seed, check=True, capture_output=True).stdout
    assert rejected(data) == parsing.MSG_PRIVATE_KEY


def test_seed_certificate_is_its_own_root(seed: Path) -> None:
    data = (seed / "tenant.pem").read_bytes()
    parsed = parse_certificate(data)

    assert parse_root_ca(data) == parsed
    assert verify_chain(parsed, [], at=datetime.now(UTC)) == ChainResult(
        True, "Self-signed certificate; signature verified."
    )


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["req", "-new", "-key", "tenant.key", "-subj", "/CN=x"], parsing.MSG_CSR),
        (["req", "-new", "-key", "tenant.key", "-subj", "/CN=x", "-outform", "der"], parsing.MSG_CSR),
        (["crl2pkcs7", "-nocrl", "-certfile", "tenant.pem"], parsing.MSG_PKCS7),
        (["crl2pkcs7", "-nocrl", "-certfile", "tenant.pem", "-outform", "der"], parsing.MSG_PKCS7),
        (
            ["pkcs12", "-export", "-in", "tenant.pem", "-inkey", "tenant.key", "-passout", "pass:secret"],
            parsing.MSG_PKCS12,
        ),
        (["rsa", "-in", "tenant.key", "-pubout"], parsing.MSG_PUBLIC_KEY),
        (["x509", "-in", "tenant.pem", "-trustout", "-addtrust", "clientAuth"], parsing.MSG_TRUSTED_CERT),
    ],
    ids=["csr", "csr-der", "p7b", "p7b-der", "p12", "public-key", "trusted-certificate"],
)
def test_other_openssl_outputs_are_named(seed: Path, command: list[str], message: str) -> None:
    data = subprocess.run(["openssl", *command], cwd=seed, check=True, capture_output=True).stdout
    assert rejected(data) == message


def test_rsa_pss_key_is_refused(seed: Path) -> None:
    openssl("genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "pss.key", cwd=seed)
    openssl("req", "-new", "-x509", "-key", "pss.key", "-out", "pss.pem", "-days", "30", "-subj", "/CN=pss", cwd=seed)
    assert rejected((seed / "pss.pem").read_bytes()) == (
        "The certificate's key is RSA-PSS, which may only sign; recording certificates must be RSA, 2048 bits or more."
    )


def test_v1_self_signed_root_is_a_ca(seed: Path) -> None:
    # `openssl x509 -req -signkey` writes a version 1 certificate: no extensions, so no Basic Constraints.
    openssl("req", "-new", "-key", "tenant.key", "-subj", "/CN=Old Root", "-out", "v1.csr", cwd=seed)
    openssl("x509", "-req", "-in", "v1.csr", "-signkey", "tenant.key", "-days", "30", "-out", "v1.pem", cwd=seed)
    parsed = parse_root_ca((seed / "v1.pem").read_bytes())
    assert parsed.subject_name == "Old Root"
    assert parsed.extensions == ()


@needs_openssl
@pytest.mark.parametrize("serial", [1, 0x0ABC, 0x80, 2**158 + 12345])
def test_serial_hex_is_what_openssl_prints(tmp_path: Path, serial: int) -> None:
    cert, _ = pki.make_self_signed(serial=serial)
    (tmp_path / "c.pem").write_bytes(pki.pem(cert))
    printed = openssl("x509", "-in", "c.pem", "-noout", "-serial", cwd=tmp_path).removeprefix("serial=")
    parsed = parse_certificate(pki.pem(cert))
    assert parsed.serial_hex == printed
    assert parsed.serial_number == serial


@needs_openssl
def test_awkward_names_match_openssl_rfc2253_in_certificate_order(tmp_path: Path) -> None:
    subject = x509.Name(
        [
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "A, B"),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, 'x"y'),
                ]
            ),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ops@example.com")]),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Zürich;<>+ #1")]),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.SERIAL_NUMBER, "12")]),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.LOCALITY_NAME, " lead\nline")]),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.STREET_ADDRESS, "#1 Main St ")]),
        ]
    )
    cert, _ = pki.make_self_signed(subject=subject)
    (tmp_path / "c.pem").write_bytes(pki.pem(cert))
    printed = openssl(
        "x509", "-in", "c.pem", "-noout", "-subject", "-nameopt", "RFC2253,-dn_rev,-esc_msb", cwd=tmp_path
    )

    parsed = parse_certificate(pki.pem(cert))
    assert parsed.subject_dn == printed.removeprefix("subject=")
    assert "\n" not in parsed.subject_dn
    assert parsed.subject_name == "A, B"
