"""A keystore backup carries the LKM keypairs: keytool lists them as private keys, and a fresh portal with another
master key, restored from it, decrypts Genesys Cloud's data keys under the same keypair ids."""

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.keystore import helpers as keystore_helpers

from .live_lkm import issue, lkm_portal, manage, signed

PASSWORD = "backup password for the test 2026"
TENANT = "acme"
OAEP_SHA1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303


def wrap_for(public_key_b64: str, data_key: bytes) -> str:
    """As Genesys Cloud wraps a recording's data key: RSA-OAEP SHA-1 to the keypair's PKCS#1 public key."""
    public_key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 3072
    return base64.b64encode(public_key.encrypt(data_key, OAEP_SHA1)).decode()


def keytool_entries(path: Path) -> dict[str, str]:
    return keystore_helpers.keytool_entries(path, PASSWORD)


def test_a_backup_restored_on_a_fresh_portal_decrypts_under_the_same_keypair_ids(tmp_path: Path) -> None:
    backup = tmp_path / "acme.p12"
    data_keys = [os.urandom(32), os.urandom(32)]
    with lkm_portal(tmp_path / "old", TENANT) as old:
        client = issue(old.env, TENANT)
        made = [signed(client, old.url, "POST", "/keypair", {}) for _ in data_keys]
        assert [answer.status for answer in made] == [200, 200], [answer.text for answer in made]
        keypairs = [answer.json() for answer in made]
        wrapped = [wrap_for(keypair["publicKey"], key) for keypair, key in zip(keypairs, data_keys, strict=True)]
        exported = manage(
            {**old.env, "PORTAL_KEYSTORE_PASSWORD": PASSWORD},
            "export_keystore",
            "--tenant",
            TENANT,
            "--out",
            str(backup),
        )
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.strip() == f"Wrote 2 entries of {TENANT} to {backup}."

    entries = keytool_entries(backup)
    assert {f"lkm-{keypair['id']}": "PrivateKeyEntry" for keypair in keypairs}.items() <= entries.items(), entries

    password_file = tmp_path / "password"
    password_file.write_text(PASSWORD + "\n")
    with lkm_portal(tmp_path / "new", TENANT) as new:  # its own database and its own master key
        restore = ("restore_backup", "--password-file", str(password_file), str(backup), "--tenant")
        before = new.manage(*restore, TENANT)
        client = issue(new.env, TENANT)
        listed = signed(client, new.url, "GET", "/keypair")
        decrypted = [
            signed(client, new.url, "POST", "/decrypt", {"keypairId": keypair["id"], "body": body})
            for keypair, body in zip(keypairs, wrapped, strict=True)
        ]
        verified = new.manage("verify_keys", "--tenant", TENANT)
        again = new.manage(*restore, TENANT)
        new.manage("create_tenant", "globex", "--name", "Globex")
        elsewhere = new.manage(
            "restore_backup", "--tenant", "globex", "--password-file", str(password_file), str(backup)
        )
        origins = new.run_python(
            "import json\nfrom lkm.models import Keypair\n"
            "print(json.dumps(sorted([str(k.id), k.tenant.slug, k.origin] for k in Keypair.objects.all())))"
        )

    assert before.returncode == 0, before.stderr
    assert before.stdout.strip() == f"{TENANT}: Imported 2 keys."
    assert listed.status == 200, listed.text
    assert sorted(listed.json(), key=lambda item: item["id"]) == sorted(keypairs, key=lambda item: item["id"])
    assert [answer.status for answer in decrypted] == [200, 200], [answer.text for answer in decrypted]
    assert [base64.b64decode(answer.json()["body"]) for answer in decrypted] == data_keys
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert sorted(verified.stdout.splitlines()[:-1]) == sorted(f"{TENANT} lkm-{k['id']}: OK" for k in keypairs)
    assert verified.stdout.splitlines()[-1] == "Verified 2 keys: 2 OK, 0 failed."
    # The same backup again changes nothing; into another tenant it is refused: one id never names two keys.
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"{TENANT}: Imported 0 keys; skipped 2."
    assert elsewhere.returncode == 1
    assert "already in the portal" in elsewhere.stderr and "Traceback" not in elsewhere.stderr
    assert origins == sorted([keypair["id"], TENANT, "restore"] for keypair in keypairs)
