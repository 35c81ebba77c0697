"""A restored entry's friendlyName is anyone's text: it never reaches the stored alias as it is. Names that break the
alias rule are rewritten to fit it, and the restore page says, for each entry, which rule changed it: characters
replaced (control and direction characters, or others), shortened, or taken."""

import html
import re
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from keystore import pfx
from keystore.aliases import CHANGED_CHARACTERS, CHANGED_CONTROLS, CHANGED_EMPTY, CHANGED_SHORTENED
from keystore.models import KeystoreEntry
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.factories import save_certificate
from tests.keystore.helpers import openssl

PASSWORD = "backup-password-2025"
RAW = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
STORED_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}")


def restore(client, data: bytes):
    return client.post(
        reverse("certificate-restore", args=["acme"]),
        {"backup_file": SimpleUploadedFile("keystore.p12", data), "password": PASSWORD},
    )


def renamed_items(response) -> list[str]:
    """The restore page's "Renamed" list, one line per entry, as read."""
    text = response.content.decode()
    block = re.search(r"<dt>Renamed</dt><dd><ul>(.*?)</ul></dd>", text, re.S)
    assert block, "no Renamed list on the page"
    return [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>", block[1], re.S)]


def p12_by_cryptography(name: str, key_index: int = 3) -> bytes:
    cert, key = pki.make_self_signed(pki.make_key(2048, key_index), f"Recording {key_index}")
    return pki.make_p12(key, cert, PASSWORD.encode(), alias=name)


CASES = [
    # (friendlyName, stored alias, reasons in order)
    ("\n[other-section]\nx=y", "other-section-x-y", [CHANGED_CONTROLS, CHANGED_CHARACTERS]),
    ("voice\r", "voice", [CHANGED_CONTROLS]),
    ("invoice\u202egnp.exe", "invoice-gnp.exe", [CHANGED_CONTROLS]),
    ("ops\u2066main\u2069", "ops-main", [CHANGED_CONTROLS]),
    ("r" * 200, "r" * 64, [CHANGED_SHORTENED]),
    ("Zürich Опер 录音", "Z-rich", [CHANGED_CHARACTERS]),
    ("录音", "certificate", [CHANGED_CHARACTERS, CHANGED_EMPTY]),
]


@pytest.mark.parametrize(("name", "alias", "reasons"), CASES, ids=[repr(case[0])[:30] for case in CASES])
def test_a_hostile_friendly_name_becomes_a_safe_alias_and_the_page_says_why(
    world, client_for, name: str, alias: str, reasons: list[str]
) -> None:
    response = restore(client_for(world.alice), p12_by_cryptography(name))
    assert response.status_code == 200
    assert list(KeystoreEntry.objects.filter(tenant=world.acme).values_list("alias", flat=True)) == [alias]
    [item] = renamed_items(response)
    assert item.endswith(f" → {alias}: {'; '.join(reasons)}.")
    assert RAW.search(response.content.decode().replace("\n", "")) is None
    audit = AuditEntry.objects.get(action="keystore-imported")
    [[_, stored, why]] = audit.details["renamed"]
    assert (stored, why) == (alias, "; ".join(reasons))
    assert RAW.search(str(audit.details)) is None


def test_a_shortened_alias_says_shortened_and_a_taken_one_says_taken(world, client_for) -> None:
    save_certificate(world.acme, *pki.make_self_signed(pki.make_key(2048, 4), "Existing"), alias="Voice")
    first = restore(client_for(world.alice), p12_by_cryptography("VOICE", 3))
    [taken] = renamed_items(first)
    assert (
        taken == "VOICE → VOICE-2: 'VOICE' is already taken in this keystore (aliases ignore case), so it was numbered."
    )
    assert "shortened" not in taken
    second = restore(client_for(world.alice), p12_by_cryptography("v" * 70, 5))
    [shortened] = renamed_items(second)
    assert shortened == f"{'v' * 70} → {'v' * 64}: {CHANGED_SHORTENED}."
    assert "taken" not in shortened


def test_a_long_name_whose_shortened_form_is_taken_says_both(world, client_for) -> None:
    save_certificate(world.acme, *pki.make_self_signed(pki.make_key(2048, 4), "Existing"), alias="w" * 64)
    response = restore(client_for(world.alice), p12_by_cryptography("W" * 100, 3))
    [item] = renamed_items(response)
    assert item.startswith(f"{'W' * 100} → {'W' * 62}-2: {CHANGED_SHORTENED}; ")
    assert item.endswith("is already taken in this keystore (aliases ignore case), so it was numbered.")


def test_a_nul_in_the_friendly_name_never_reaches_the_alias(world, client_for) -> None:
    # OpenSSL cuts a name at NUL; the portal's own PKCS#12 writer stores it as the BMPString it is.
    key = pki.make_key(2048, 3)
    cert, _ = pki.make_self_signed(key, "Recording")
    data = pfx.build_pfx([pfx.PfxEntry("rec\x00[x]", pki.der(cert), key)], PASSWORD)
    response = restore(client_for(world.alice), data)
    assert KeystoreEntry.objects.get(tenant=world.acme).alias == "rec-x"
    [item] = renamed_items(response)
    assert item == f"rec\\00[x] → rec-x: {CHANGED_CONTROLS}; {CHANGED_CHARACTERS}."


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize(
    ("name", "shown", "alias"),
    [
        ("\n[other-section]\nx=y", "\\0A[other-section]\\0Ax=y", "other-section-x-y"),
        ("invoice\u202egnp.exe", "invoice\\U202Egnp.exe", "invoice-gnp.exe"),
    ],
)
def test_names_written_by_openssl_are_rewritten_alike(
    world, client_for, tmp_path, name: str, shown: str, alias: str
) -> None:
    cert, key = pki.make_self_signed(pki.make_key(2048, 3), "Recording")
    (tmp_path / "cert.pem").write_bytes(pki.pem(cert))
    (tmp_path / "key.pem").write_bytes(pki.key_pem_pkcs8(key))
    made = openssl(
        "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-name", name,
        "-out", "store.p12", "-passout", f"pass:{PASSWORD}",
        cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    response = restore(client_for(world.alice), (tmp_path / "store.p12").read_bytes())
    assert KeystoreEntry.objects.get(tenant=world.acme).alias == alias
    [item] = renamed_items(response)
    assert item.startswith(f"{shown} → {alias}: ")


def test_every_stored_alias_obeys_the_rule(world, client_for) -> None:
    for index, (name, _, _) in enumerate(CASES):
        restore(client_for(world.alice), p12_by_cryptography(name, 3 + index))
    aliases = list(KeystoreEntry.objects.filter(tenant=world.acme).values_list("alias", flat=True))
    assert len(aliases) == len(CASES)
    assert all(STORED_ALIAS.fullmatch(alias) for alias in aliases), aliases
