"""When the alias proposed from a certificate is not its name as it is, the upload panel and ``import_certificate``
say why: shortened to the longest alias allowed, or numbered because the name is taken. Typed aliases get no note."""

import html
import re
from io import StringIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from django.core.management import call_command

from keystore.aliases import CHANGED_SHORTENED
from tests.certificates import pki
from tests.factories import post_preview, post_upload, save_certificate, seed_files

# The long-CN certificates are made and read despite cryptography's warning about X.509's bound.
pytestmark = pytest.mark.filterwarnings("ignore:Attribute's length must be")

TAKEN = "'genesys-recording' is already taken in this keystore (aliases ignore case), so it was numbered"
LONG_CN = "Genesys Recording " + "x" * 80  # past X.509's 64-character bound for a CN, as some CAs write them anyway


def long_cn_files(key_index: int) -> tuple[bytes, bytes]:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LONG_CN, _validate=False)])
    cert, key = pki.make_self_signed(pki.make_key(2048, key_index), subject=subject)
    return pki.pem(cert), pki.key_pem_traditional(key)


def alias_note(response) -> str:
    found = re.search(
        r'<small class="help" id="alias-note" aria-live="polite">(.*?)</small>', response.content.decode()
    )
    assert found, "no alias note on the page"
    return html.unescape(found[1])


def test_the_preview_says_a_taken_name_was_numbered(world, client_for) -> None:
    save_certificate(world.acme)  # proposed and stored as genesys-recording
    answer = post_preview(client_for(world.alice), "acme", *seed_files(key_index=1)).json()
    assert answer["alias"] == "genesys-recording-2"
    assert answer["alias_note"] == f"Changed: {TAKEN}."
    assert "shortened" not in answer["alias_note"]


def test_the_preview_says_a_long_name_was_shortened(world, client_for) -> None:
    answer = post_preview(client_for(world.alice), "acme", *long_cn_files(1)).json()
    assert answer["alias"] == ("genesys-recording-" + "x" * 80)[:64]
    assert answer["alias_note"] == f"Changed: {CHANGED_SHORTENED}."
    assert "taken" not in answer["alias_note"]


def test_a_plain_name_gets_no_note(world, client_for) -> None:
    answer = post_preview(client_for(world.alice), "acme", *seed_files()).json()
    assert (answer["alias"], answer["alias_note"]) == ("genesys-recording", "")


def test_the_page_without_javascript_shows_the_note_beside_the_proposed_alias(world, client_for) -> None:
    save_certificate(world.acme)
    client = client_for(world.alice)
    read = post_upload(client, "acme", *seed_files(key_index=1), preview="1")
    assert alias_note(read) == f"Changed: {TAKEN}."
    typed = post_upload(client, "acme", *seed_files(key_index=1), preview="1", alias="my-own")
    assert alias_note(typed) == ""


def run_import(tmp_path: Path, files: tuple[bytes, bytes]) -> str:
    cert_data, key_data = files
    (tmp_path / "tenant.pem").write_bytes(cert_data)
    (tmp_path / "tenant.key").write_bytes(key_data)
    out = StringIO()
    call_command(
        "import_certificate", "--tenant", "acme", str(tmp_path / "tenant.pem"), str(tmp_path / "tenant.key"), stdout=out
    )
    return out.getvalue()


def test_import_certificate_says_why_the_alias_changed(world, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("PORTAL_KEY_PASSWORD", raising=False)
    assert "Alias:" not in run_import(tmp_path, seed_files(key_index=0))
    output = run_import(tmp_path, seed_files(key_index=1))
    assert f"Alias:         genesys-recording-2 (Changed: {TAKEN}.)" in output
    output = run_import(tmp_path, long_cn_files(2))
    assert f"Alias:         {('genesys-recording-' + 'x' * 80)[:64]} (Changed: {CHANGED_SHORTENED}.)" in output
