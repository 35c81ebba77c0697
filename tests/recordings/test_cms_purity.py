"""recordings/cms is plain code over cryptography and asn1crypto: no Django, no keystore, nothing of the portal, so
every rule about what a recording file is can be tested on bytes alone."""

import ast
import sys
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from recordings.cms import Recipient

CMS = Path(__file__).resolve().parents[2] / "recordings" / "cms"


def test_the_reader_imports_only_the_standard_library_cryptography_and_asn1crypto():
    allowed = {*sys.stdlib_module_names, "cryptography", "asn1crypto"}
    files = sorted(CMS.glob("*.py"))
    assert files
    imported = {
        (path.name, name.split(".")[0])
        for path in files
        for node in ast.walk(ast.parse(path.read_text()))
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and not node.level
            else []
        )
    }
    assert {(file, root) for file, root in imported if root not in allowed} == set()


def test_a_recipient_description_escapes_what_a_name_could_smuggle():
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Evil\nName,O=Fake"),
        ]
    )
    recipient = Recipient(issuer.public_bytes(), -255, None, "pkcs1v15", b"")

    assert recipient.describe() == "issuer CN=Evil\\0AName\\,O\\=Fake,C=US, serial -0xFF"
    assert Recipient(b"\x30\x03junk", 1, None, "pkcs1v15", b"").describe() == "issuer (unreadable name), serial 0x1"
