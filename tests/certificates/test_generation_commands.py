"""The key-generation commands as an operator meets them: what they print, and one line for each refusal with
nothing made (no key, certificate, waiting key, audit entry or file)."""

import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from certificates.management.commands.generate_certificate import Command as GenerateCommand
from certificates.models import Certificate, CertificateRequest
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.certificates.keygen_cli import SUBJECT_ARGS, SUBJECT_DN, counts, fails, run
from tests.factories import archive

LONG_CN = "R" * 5000
BAD_SUBJECTS = [
    pytest.param(
        {"--country": "USA"}, "--country: Country (C) is a two-letter country code, such as US.", id="country"
    ),
    pytest.param({"--cn": ""}, "--cn: Enter the Common Name (CN), such as Genesys Recording.", id="empty-cn"),
    pytest.param(
        {"--cn": LONG_CN}, "--cn: The Common Name (CN) is at most 64 characters; this one has 5,000.", id="long-cn"
    ),
    pytest.param(
        {"--bits": "1024"}, "--bits: Keys are RSA 2048, 3072 or 4096 bits; 1024 is not one of them.", id="bits"
    ),
]
BAD_DAYS = [
    pytest.param(
        {"--days": "0"}, "--days: The validity is 1 to 9,125 days (25 years); 0 is outside that.", id="0-days"
    ),
    pytest.param(
        {"--days": "100000"},
        "--days: The validity is 1 to 9,125 days (25 years); 100000 is outside that.",
        id="100000-days",
    ),
]


def arguments(changes: dict[str, str], *, days: str | None = "365") -> list[str]:
    given = dict(zip(SUBJECT_ARGS[::2], SUBJECT_ARGS[1::2], strict=True)) | {"--bits": "2048"} | changes
    if days is not None:
        given.setdefault("--days", days)
    return ["--tenant", "acme", *(part for pair in given.items() for part in pair)]


def public_numbers(certificate: Certificate) -> rsa.RSAPublicNumbers:
    key = x509.load_der_x509_certificate(certificate.certificate_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key.public_numbers()


def test_generate_prints_what_it_made_and_audits(world):
    printed = run("generate_certificate", *arguments({"--alias": "voice-2026"}))
    certificate = Certificate.objects.select_related("entry").get()
    assert (certificate.tenant, certificate.alias, certificate.subject_dn) == (world.acme, "voice-2026", SUBJECT_DN)
    assert certificate.is_self_signed and certificate.key_size == 2048 and certificate.uploaded_by is None
    assert (certificate.not_valid_after - certificate.not_valid_before).days == 365
    for expected in (
        "Alias:         voice-2026",
        f"Subject DN:    {SUBJECT_DN}",
        f"Serial Number: {certificate.serial_number} (hex {certificate.serial_hex})",
        f"Valid:         {certificate.not_valid_before:%Y-%m-%d %H:%M} to {certificate.not_valid_after:%Y-%m-%d %H:%M}",
        f"Fingerprint:   {certificate.sha256_fingerprint}",
        "Generated 'voice-2026' in tenant acme.",
    ):
        assert expected in printed
    audit = AuditEntry.objects.get(action="certificate-generated")
    assert audit.actor is None and audit.tenant == world.acme


@pytest.mark.parametrize("changes,message", [*BAD_SUBJECTS, *BAD_DAYS])
def test_generate_refuses_bad_input_in_one_line(world, changes, message):
    before = counts()
    assert fails("generate_certificate", *arguments(changes)) == message
    assert counts() == before


@pytest.mark.parametrize("changes,message", BAD_SUBJECTS)
def test_request_refuses_bad_input_and_writes_no_file(world, tmp_path, changes, message):
    before = counts()
    out = tmp_path / "voice.csr"
    assert fails("request_certificate", *arguments(changes, days=None), "--out", str(out)) == message
    assert counts() == before and list(tmp_path.iterdir()) == []


def test_a_refusal_exits_non_zero_from_the_shell(world, capsys, monkeypatch):
    # run_from_argv closes every database connection when it ends; the test's transaction needs its connection.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    before = counts()
    with pytest.raises(SystemExit) as exited:
        GenerateCommand().run_from_argv(["manage.py", "generate_certificate", *arguments({"--days": "0"})])
    assert exited.value.code == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "CommandError: --days: The validity is 1 to 9,125 days (25 years); 0 is outside that."
    ]
    assert counts() == before


@pytest.mark.parametrize(
    "command,rest",
    [
        ("generate_certificate", ["--cn", "Voice", "--days", "30"]),
        ("request_certificate", ["--cn", "Voice", "--out", "voice.csr"]),
        ("renew_certificate", ["voice"]),
        ("add_root_ca", ["ca.pem"]),
        ("import_certificate", ["voice.pem"]),
    ],
)
def test_an_unknown_tenant_is_one_line(world, command, rest):
    before = counts()
    assert fails(command, "--tenant", "nope", *rest) == "No tenant with the identifier 'nope'."
    assert counts() == before


def test_an_unknown_alias_is_one_line(world, tmp_path):
    run("generate_certificate", *arguments({"--alias": "voice"}))
    before = counts()
    assert (
        fails("renew_certificate", "--tenant", "acme", "nope") == "No certificate with the alias 'nope' in tenant acme."
    )
    # Another tenant's alias is as unknown as one nobody used.
    assert fails("renew_certificate", "--tenant", "globex", "voice") == (
        "No certificate with the alias 'voice' in tenant globex."
    )
    run("request_certificate", *arguments({"--alias": "waits"}, days=None), "--out", str(tmp_path / "w.csr"))
    after_request = counts()
    assert fails("renew_certificate", "--tenant", "acme", "waits") == (
        "'waits' is a key waiting for its certificate; only a certificate can be renewed."
    )
    assert counts() == after_request and before["entries"] + 1 == after_request["entries"]
    archive(Certificate.objects.get(entry__alias="voice"))
    after_archive = counts()
    assert fails("renew_certificate", "--tenant", "acme", "voice") == (
        "The certificate 'voice' is in the archive; restore it before renewing it."
    )
    assert counts() == after_archive


def test_renewal_by_command_makes_a_linked_successor_with_a_new_key(world):
    run("generate_certificate", *arguments({"--alias": "voice", "--days": "30"}))
    predecessor = Certificate.objects.get()
    printed = run("renew_certificate", "--tenant", "acme", "VOICE", "--days", "730")  # aliases ignore case

    successor = Certificate.objects.select_related("renews").exclude(pk=predecessor.pk).get()
    predecessor.refresh_from_db()
    assert successor.renews == predecessor and predecessor.archived_at is None
    assert successor.subject_dn == predecessor.subject_dn == SUBJECT_DN
    assert successor.serial_number != predecessor.serial_number
    assert public_numbers(successor).n != public_numbers(predecessor).n
    assert (predecessor.key_size, successor.key_size) == (2048, 3072)  # never below the default size
    assert successor.not_valid_after > predecessor.not_valid_after
    assert (successor.not_valid_after - successor.not_valid_before).days == 730
    assert successor.alias != "voice"
    assert (
        f"Generated '{successor.alias}', renewing 'voice' (serial {predecessor.serial_number}), which stays active."
        in (printed)
    )
    assert AuditEntry.objects.filter(action="certificate-renewed").count() == 1


def test_renewal_refuses_bad_input_and_a_csr_file_for_a_self_signed_certificate(world, tmp_path):
    run("generate_certificate", *arguments({"--alias": "voice"}))
    before = counts()
    assert fails("renew_certificate", "--tenant", "acme", "voice", "--bits", "1024") == (
        "--bits: Keys are RSA 2048, 3072 or 4096 bits; 1024 is not one of them."
    )
    assert fails("renew_certificate", "--tenant", "acme", "voice", "--days", "100000") == (
        "--days: The validity is 1 to 9,125 days (25 years); 100000 is outside that."
    )
    assert fails("renew_certificate", "--tenant", "acme", "voice", "--out", str(tmp_path / "x.csr")) == (
        "'voice' is self-signed: its successor is generated at once, with no CSR; leave out --out."
    )
    assert fails("renew_certificate", "--tenant", "acme", "voice", "--follow-up", "nothing-like-it").startswith(
        "--follow-up nothing-like-it is not offered for 'voice'."
    )
    assert counts() == before and list(tmp_path.iterdir()) == []


def test_request_does_not_overwrite_a_file_unless_told(world, tmp_path):
    out = tmp_path / "voice.csr"
    out.write_bytes(b"yesterday's request")
    before = counts()
    assert fails("request_certificate", *arguments({}, days=None), "--out", str(out)) == (
        f"{out} exists; choose another name or pass --overwrite."
    )
    assert fails("request_certificate", *arguments({}, days=None), "--out", str(tmp_path / "no" / "x.csr")) == (
        f"The folder {tmp_path / 'no'} does not exist."
    )
    assert counts() == before and out.read_bytes() == b"yesterday's request"
    run("request_certificate", *arguments({}, days=None), "--out", str(out), "--overwrite")
    assert out.read_bytes().startswith(b"-----BEGIN CERTIFICATE REQUEST-----")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voice.csr"]


def test_a_csr_that_cannot_be_written_leaves_no_key_behind(world, tmp_path, monkeypatch):
    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    before = counts()
    out = tmp_path / "voice.csr"
    assert fails("request_certificate", *arguments({}, days=None), "--out", str(out)) == (
        f"Cannot write {out}: No space left on device; nothing was made."
    )
    assert counts() == before and not CertificateRequest.objects.exists()
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary


def test_add_root_ca_refuses_in_one_line(world, tmp_path):
    leaf, _ = pki.make_self_signed()
    ca, _ = pki.make_ca()
    (tmp_path / "leaf.pem").write_bytes(pki.pem(leaf))
    (tmp_path / "ca.pem").write_bytes(pki.pem(ca))
    before = counts()
    assert "is not a CA certificate" in fails("add_root_ca", "--tenant", "acme", str(tmp_path / "leaf.pem"))
    assert fails("add_root_ca", "--tenant", "acme", str(tmp_path / "missing.pem")).startswith(
        f"Cannot read {tmp_path / 'missing.pem'}: "
    )
    assert counts() == before
    run("add_root_ca", "--tenant", "acme", str(tmp_path / "ca.pem"))
    assert fails("add_root_ca", "--tenant", "acme", str(tmp_path / "ca.pem")) == (
        "This root CA is already trusted in this tenant ('Acme Root CA')."
    )


def test_import_without_a_key_file_takes_no_alias(world, tmp_path):
    cert, _ = pki.make_self_signed()
    path = tmp_path / "voice.pem"
    path.write_bytes(pki.pem(cert))
    before = counts()
    assert fails("import_certificate", "--tenant", "acme", "--alias", "mine", str(path)) == (
        "Without a key file the certificate takes the alias of its waiting key; leave out --alias."
    )
    assert fails("import_certificate", "--tenant", "acme", str(path)) == (
        "Certificate File: This certificate matches no key waiting for a certificate in this tenant."
    )
    assert counts() == before


def test_the_waiting_key_is_found_by_public_key_not_by_name(world, tmp_path):
    """A certificate with the subject of a waiting key but another key is no answer to its CSR."""
    run("request_certificate", *arguments({"--alias": "waits"}, days=None), "--out", str(tmp_path / "w.csr"))
    ca, ca_key = pki.make_ca()
    run("add_root_ca", "--tenant", "acme", str(_write(tmp_path / "ca.pem", pki.pem(ca))))
    impostor, _ = pki.issue(ca, ca_key, "Genesys Recording")
    before = counts()
    assert fails("import_certificate", "--tenant", "acme", str(_write(tmp_path / "i.pem", pki.pem(impostor)))) == (
        "Certificate File: This certificate matches no key waiting for a certificate in this tenant."
    )
    assert counts() == before


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
