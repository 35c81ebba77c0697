"""Key files ask for their key derivation in many ways (encrypted PKCS#8 with PBKDF2, scrypt or PKCS#12 PBE; legacy
DEK-Info PEM): each is read and refused, with the limit named, before any derivation starts."""

import pytest
from cryptography.hazmat.primitives import serialization

from keystore import kdf, keyfiles
from keystore.keyfiles import KeyFileError, describe_key_file, open_key_file
from tests.keystore.helpers import (
    openssl,
    pbe_iterations,
    pbkdf2_iterations,
    rewritten,
    rsa_key,
    scrypt_cost,
    spy_on_derivations,
)

PASS = "derivation pass 42"
ADVICE = " Encrypt it again with the usual settings, e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc."


@pytest.fixture(scope="module")
def key_files(tmp_path_factory):
    """One key encrypted by openssl in each way a key file can ask for its derivation."""
    folder = tmp_path_factory.mktemp("derivations")
    (folder / "k.pem").write_bytes(
        rsa_key(0).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    made = {
        "scrypt.pem": ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-scrypt", "-scrypt_N", "16384", "-scrypt_r", "8",
                       "-scrypt_p", "1"],
        "pbkdf2.pem": ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", "2048"],
        "sha1-prf.der": ["pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1", "-outform", "DER"],
        "pbe-sha1-3des.pem": ["pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES"],
        "legacy.pem": ["rsa", "-aes256", "-traditional"],
    }  # fmt: skip
    for name, args in made.items():
        result = openssl(*args, "-in", "k.pem", "-passout", f"pass:{PASS}", "-out", name, cwd=folder)
        assert result.returncode == 0, result.stderr
    return {name: (folder / name).read_bytes() for name in made}


@pytest.mark.parametrize("name", ["scrypt.pem", "pbkdf2.pem", "sha1-prf.der", "pbe-sha1-3des.pem", "legacy.pem"])
def test_key_files_within_the_limits_open_with_one_derivation(key_files, name, monkeypatch):
    derivations = spy_on_derivations(monkeypatch)
    assert describe_key_file(key_files[name]).encrypted
    assert derivations["loader"] == []  # describing needs no password
    opened = open_key_file(key_files[name], PASS)
    assert opened.info.key_size == 2048
    assert derivations["loader"] == [1]


@pytest.mark.parametrize(
    "name,change,message",
    [
        (
            "pbkdf2.pem",
            pbkdf2_iterations(5_000_000),
            "The key file asks for 5,000,000 key-derivation rounds (PBKDF2-HMAC-SHA256, 5,000,000 iterations); this "
            "portal allows at most 1,000,000 per key derivation.",
        ),
        (
            "sha1-prf.der",
            pbkdf2_iterations(600_000),
            "The key file asks for 1,200,000 key-derivation rounds (PBKDF2-HMAC-SHA1, 600,000 iterations, once for "
            "each block of key); this portal allows at most 1,000,000 per key derivation.",
        ),
        (
            "scrypt.pem",
            scrypt_cost(1 << 20, 8, 1),
            "The key file asks for scrypt with 1,024 MiB of memory (128·N·r, scrypt N=1,048,576 r=8 p=1); this portal "
            "allows at most 64 MiB.",
        ),
        (
            "scrypt.pem",
            scrypt_cost(16384, 8, 16),
            "The key file asks for scrypt with N·r·p = 2,097,152 (scrypt N=16,384 r=8 p=16); this portal allows at "
            "most 1,000,000.",
        ),
        (
            "pbe-sha1-3des.pem",
            pbe_iterations(400_000),
            "The key file asks for 1,200,000 key-derivation rounds (PKCS#12 PBE key derivation (SHA1), 400,000 "
            "iterations, once for each block of key); this portal allows at most 1,000,000 per key derivation.",
        ),
    ],
    ids=["pbkdf2-rounds", "pbkdf2-sha1-blocks", "scrypt-memory", "scrypt-work", "pkcs12-pbe-rounds"],
)
def test_key_files_asking_too_much_are_refused_before_any_derivation(key_files, name, change, message, monkeypatch):
    data = rewritten(key_files[name], change)
    derivations = spy_on_derivations(monkeypatch)
    for read in (describe_key_file, lambda d: open_key_file(d, PASS)):
        with pytest.raises(KeyFileError) as refused:
            read(data)
        assert str(refused.value) == message + ADVICE
    assert derivations == {"pbkdf2": [], "scrypt": [], "pkcs12": [], "loader": []}


def test_legacy_dek_info_keys_pass_the_same_check(key_files, monkeypatch):
    derivations = spy_on_derivations(monkeypatch)
    monkeypatch.setattr(kdf, "MAX_ROUNDS", 1)  # EVP_BytesToKey: one MD5 round per 16 bytes of an AES-256 key
    with pytest.raises(KeyFileError) as refused:
        open_key_file(key_files["legacy.pem"], PASS)
    assert str(refused.value).startswith(
        "The key file asks for 2 key-derivation rounds (EVP_BytesToKey (MD5), 1 iteration, once for each block of key)"
    )
    unknown = key_files["legacy.pem"].replace(b"DEK-Info: AES-256-CBC,", b"DEK-Info: SEED-CBC,")
    with pytest.raises(KeyFileError, match="^The key is encrypted with a cipher this portal does not support.$"):
        open_key_file(unknown, PASS)
    assert derivations["loader"] == []


def test_a_damaged_scrypt_cost_is_refused_as_damage(key_files):
    data = rewritten(key_files["scrypt.pem"], scrypt_cost(1000, 8, 1))
    with pytest.raises(KeyFileError, match="^The file is damaged: its scrypt cost N is not a power of two.$"):
        open_key_file(data, PASS)


def test_one_key_file_costs_at_most_one_derivation_within_the_cap():
    # A Save or a preview with a password opens the key file once (tests/certificates/test_key_derivations.py), so
    # the per-derivation cap is the whole request's derivation work.
    assert kdf.MAX_ROUNDS <= 1_000_000
    assert keyfiles.MAX_KEY_FILE_BYTES == 256 * 1024
