"""A PKCS#12 restore has one budget for the whole file: every derivation it will perform (the MAC, each encrypted
SafeContents, each shrouded key), counted once per distinct salt and rounds, and a cap on its bags. A file over
budget is refused before anything is derived."""

import os

import pytest
from asn1crypto import algos  # type: ignore[import-untyped]
from asn1crypto import keys as asn1_keys
from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography.hazmat.primitives import serialization

from keystore import kdf, pfx, rc2, restore_budget
from keystore.backup import ImportTooLarge, import_pkcs12
from keystore.models import KeystoreEntry
from portal.audit.log import COMMAND
from tests.keystore.helpers import certificate, der, openssl, rsa_key, spy_on_derivations

PASSWORD = "backup password 123"
NOTHING: dict[str, list[int]] = {"pbkdf2": [], "scrypt": [], "pkcs12": [], "loader": []}
SMALL = restore_budget.Budget(rounds=5_000, items=128, where="in the web page")


def entries(count: int):
    return [
        pfx.PfxEntry(f"Recording-{i}", der(certificate(rsa_key(i), f"Recording {i}")), rsa_key(i)) for i in range(count)
    ]


def pbes2(salt: bytes, iterations: int):
    return algos.EncryptionAlgorithm(
        {
            "algorithm": "pbes2",
            "parameters": {
                "key_derivation_func": {
                    "algorithm": "pbkdf2",
                    "parameters": {
                        "salt": algos.Pbkdf2Salt(name="specified", value=salt),
                        "iteration_count": iterations,
                        "prf": {"algorithm": "sha256"},
                    },
                },
                "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": os.urandom(16)},
            },
        }
    )


def shrouded_bags(rounds: list[int], *, shared_salt: bool) -> bytes:
    """A PKCS#12 file of shrouded key bags asking for these rounds each, with one salt for all or one each. Their
    contents are random: a file over budget must be refused before anything is decrypted, and the MAC is wrong."""
    salt = os.urandom(16)
    bags = [
        asn1_pkcs12.SafeBag(
            {
                "bag_id": "pkcs8_shrouded_key_bag",
                "bag_value": asn1_keys.EncryptedPrivateKeyInfo(
                    {
                        "encryption_algorithm": pbes2(salt if shared_salt else os.urandom(16), count),
                        "encrypted_data": os.urandom(1232),
                    }
                ),
            }
        )
        for count in rounds
    ]
    content = asn1_pkcs12.AuthenticatedSafe(
        [{"content_type": "data", "content": asn1_pkcs12.SafeContents(bags).dump()}]
    ).dump()
    return asn1_pkcs12.Pfx(
        {
            "version": "v3",
            "auth_safe": {"content_type": "data", "content": content},
            "mac_data": {
                "mac": {"digest_algorithm": {"algorithm": "sha256"}, "digest": bytes(32)},
                "mac_salt": os.urandom(16),
                "iterations": 2048,
            },
        }
    ).dump()


@pytest.fixture(scope="module")
def openssl_files(tmp_path_factory):
    """One key and its certificate exported by openssl: PBES2 (a salt for the key, another for the certificates)
    and the legacy PKCS#12 PBE with 3DES."""
    folder = tmp_path_factory.mktemp("openssl-p12")
    key = rsa_key(0)
    (folder / "k.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (folder / "c.pem").write_bytes(certificate(key, "Leaf").public_bytes(serialization.Encoding.PEM))
    made = {
        "pbes2.p12": ["-iter", "2048"],
        "3des.p12": ["-iter", "2048", "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"],
    }
    for name, args in made.items():
        result = openssl(
            "pkcs12", "-export", "-in", "c.pem", "-inkey", "k.pem", "-name", "leaf", "-passout", f"pass:{PASSWORD}",
            "-out", name, *args, cwd=folder,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    return {name: (folder / name).read_bytes() for name in made}


def test_the_portals_own_backup_derives_once_for_all_its_bags(world, monkeypatch):
    data = pfx.build_pfx(entries(5), PASSWORD, iterations=2048)
    derivations = spy_on_derivations(monkeypatch)
    report = import_pkcs12(world.acme, data, PASSWORD, on_entry=lambda entry: None, by=COMMAND)
    assert len(report.imported) == 5
    # One PBKDF2 for the five key bags and the certificates (one salt for the file), one RFC 7292 KDF for the MAC.
    assert derivations == {**NOTHING, "pbkdf2": [2048], "pkcs12": [2048]}
    assert KeystoreEntry.objects.filter(tenant=world.acme).count() == 5


def test_files_of_others_cost_one_derivation_per_salt(openssl_files, monkeypatch):
    derivations = spy_on_derivations(monkeypatch)
    contents = pfx.read_pfx(openssl_files["pbes2.p12"], PASSWORD)
    assert [key.alias for key in contents.keys] == ["leaf"]
    assert derivations == {**NOTHING, "pbkdf2": [2048, 2048], "pkcs12": [2048]}
    derivations["pbkdf2"].clear()
    derivations["pkcs12"].clear()
    contents = pfx.read_pfx(openssl_files["3des.p12"], PASSWORD)
    assert [key.alias for key in contents.keys] == ["leaf"]
    # The MAC, then key and IV for the certificates and for the key: each derived once.
    assert derivations == {**NOTHING, "pkcs12": [2048] * 5}


def test_the_budget_counts_what_is_derived_not_the_items(openssl_files, monkeypatch):
    derivations = spy_on_derivations(monkeypatch)
    ours = pfx.build_pfx(entries(3), PASSWORD, iterations=2048)
    assert len(pfx.read_pfx(ours, PASSWORD, budget=SMALL).keys) == 3  # 2 x 2,048 rounds for three keys
    derivations["pbkdf2"].clear()
    derivations["pkcs12"].clear()
    with pytest.raises(pfx.PfxTooLarge) as refused:  # 3 x 2,048 rounds for one key
        pfx.read_pfx(openssl_files["pbes2.p12"], PASSWORD, budget=SMALL)
    assert str(refused.value) == (
        "The file asks for 6,144 key-derivation rounds in all; a restore in the web page allows at most 5,000."
    )
    assert derivations == NOTHING


def test_one_derivation_over_the_cap_is_refused_whatever_the_budget(openssl_files, monkeypatch):
    monkeypatch.setattr(kdf, "MAX_ROUNDS", 2047)
    derivations = spy_on_derivations(monkeypatch)
    for budget in (restore_budget.WEB_RESTORE, restore_budget.COMMAND_RESTORE):
        with pytest.raises(pfx.PfxError) as refused:
            pfx.read_pfx(openssl_files["pbes2.p12"], PASSWORD, budget=budget)
        assert not isinstance(refused.value, pfx.PfxTooLarge)
        assert str(refused.value) == (
            "The file asks for 2,048 key-derivation rounds (PKCS#12 MAC key derivation (SHA256), 2,048 iterations); "
            "this portal allows at most 2,047 per key derivation. Export it again with the default settings of "
            "keytool or OpenSSL."
        )
    assert derivations == NOTHING


def test_360_bags_at_the_per_bag_cap_are_refused_before_deriving(monkeypatch):
    data = shrouded_bags([kdf.MAX_ROUNDS] * 360, shared_salt=False)
    derivations = spy_on_derivations(monkeypatch)
    with pytest.raises(pfx.PfxTooLarge) as refused:
        pfx.read_pfx(data, PASSWORD)
    assert str(refused.value) == (
        "The file holds more than 128 items (keys, certificates and other bags); a restore in the web page allows at "
        "most 128."
    )
    with pytest.raises(pfx.PfxTooLarge) as refused:
        pfx.read_pfx(data, PASSWORD, budget=restore_budget.COMMAND_RESTORE)
    assert str(refused.value) == (
        "The file asks for 360,002,048 key-derivation rounds in all; a restore on the command line allows at most "
        "100,000,000."
    )
    assert derivations == NOTHING


def test_bags_sharing_salt_and_rounds_cost_one_derivation(monkeypatch):
    derivations = spy_on_derivations(monkeypatch)
    separate = shrouded_bags([600_000] * 100, shared_salt=False)
    with pytest.raises(pfx.PfxTooLarge, match="asks for 60,002,048 key-derivation rounds in all; .* at most 1,500,000"):
        pfx.read_pfx(separate, PASSWORD)
    assert derivations == NOTHING
    shared = shrouded_bags([600_000] * 100, shared_salt=True)
    # 602,048 rounds: within the budget, so the MAC is checked (and is wrong) before any key is derived.
    with pytest.raises(pfx.PfxError, match="^The keystore password is wrong, or the file was altered.$"):
        pfx.read_pfx(shared, PASSWORD)
    assert derivations == {**NOTHING, "pkcs12": [2048]}


def test_an_over_budget_restore_imports_nothing_and_says_so(world, openssl_files, monkeypatch):
    monkeypatch.setattr(restore_budget, "WEB_RESTORE", SMALL)
    with pytest.raises(ImportTooLarge, match="6,144 key-derivation rounds in all"):
        import_pkcs12(world.acme, openssl_files["pbes2.p12"], PASSWORD, on_entry=lambda entry: None, by=COMMAND)
    assert not KeystoreEntry.objects.exists()
    report = import_pkcs12(
        world.acme,
        openssl_files["pbes2.p12"],
        PASSWORD,
        on_entry=lambda entry: None,
        by=COMMAND,
        budget=restore_budget.COMMAND_RESTORE,
    )
    assert report.imported == ["leaf"]


def test_safe_contents_nested_too_deep_are_damage():
    inner = asn1_pkcs12.SafeContents([])
    for _ in range(20):
        inner = asn1_pkcs12.SafeContents([{"bag_id": "safe_contents", "bag_value": inner}])
    content = asn1_pkcs12.AuthenticatedSafe([{"content_type": "data", "content": inner.dump()}]).dump()
    data = asn1_pkcs12.Pfx({"version": "v3", "auth_safe": {"content_type": "data", "content": content}}).dump()
    with pytest.raises(pfx.PfxError, match="damaged"):
        pfx.read_pfx(data, PASSWORD)


def test_rc2_decryption_counts_against_the_budget():
    encryption = kdf.Encryption(kdf.Derivation("PKCS#12", "sha1", b"salt", 2048, 5, 8), "pkcs12_sha1_rc2_40", "rc2")
    assert encryption.work(256 * 1024) == kdf.RC2_ROUNDS_PER_BLOCK * 32 * 1024


@pytest.mark.parametrize(
    "key,bits,plaintext,ciphertext",
    [
        ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
        ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
        ("88", 64, "0000000000000000", "61a8a244adacccf0"),
    ],
)
def test_rc2_decrypts_the_rfc_2268_test_vectors(key, bits, plaintext, ciphertext):
    # One block with a zero IV: CBC is then the bare cipher. Legacy keytool and openssl files (40-bit RC2) are read in
    # test_pfx.py.
    assert rc2.decrypt_cbc(bytes.fromhex(key), bits, bytes(8), bytes.fromhex(ciphertext)).hex() == plaintext
