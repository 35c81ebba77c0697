"""PKCS#12 files: ours open in openssl and keytool with every key under its alias; theirs (keytool, openssl,
legacy RC2/3DES included) are read with every key. No database here."""

import re
import subprocess

import pytest
from asn1crypto import pkcs12 as asn1_pkcs12  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from keystore import pfx, pkcs12_kdf
from tests.certificates import pki
from tests.keystore.helpers import certificate, der, keytool, keytool_entries, openssl, rsa_key

PASSWORD = "backup password 123"


def entries(count: int = 3, *, expired_index: int | None = None):
    made = []
    for i in range(count):
        key = rsa_key(i)
        cert = certificate(key, f"Recording {i}", expired=i == expired_index)
        made.append(pfx.PfxEntry(f"Recording-{i}", der(cert), key))
    return made


def write(tmp_path, data: bytes, name: str = "store.p12"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rsa_numbers(key: PrivateKeyTypes) -> rsa.RSAPrivateNumbers:
    assert isinstance(key, rsa.RSAPrivateKey), f"an RSA key was expected, not {type(key).__name__}"
    return key.private_numbers()


def modulus(pem_key: bytes) -> str:
    key = pki.load_rsa_key(pem_key)
    return format(key.public_key().public_numbers().n, "X")


# The RFC 7292 KDF, checked against files OpenSSL and Java made -------------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["sha256-mac", "legacy-sha1-mac"])
def test_kdf_reproduces_the_mac_openssl_wrote(tmp_path, legacy):
    key_pem = rsa_key(0).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "k.pem").write_bytes(key_pem)
    (tmp_path / "c.pem").write_bytes(certificate(rsa_key(0)).public_bytes(serialization.Encoding.PEM))
    args = ["pkcs12", "-export", "-in", "c.pem", "-inkey", "k.pem", "-passout", f"pass:{PASSWORD}", "-out", "o.p12"]
    assert openssl(*args, *(["-legacy"] if legacy else []), cwd=tmp_path).returncode == 0
    parsed = asn1_pkcs12.Pfx.load((tmp_path / "o.p12").read_bytes())
    mac_data = parsed["mac_data"]
    hash_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    assert hash_name == ("sha1" if legacy else "sha256")
    computed = pkcs12_kdf.pfx_mac(
        hash_name,
        PASSWORD,
        mac_data["mac_salt"].native,
        mac_data["iterations"].native,
        parsed["auth_safe"]["content"].native,
    )
    assert computed == mac_data["mac"]["digest"].native
    assert pkcs12_kdf.pfx_mac(hash_name, PASSWORD + "x", mac_data["mac_salt"].native, 2048, b"x") != computed


def test_kdf_matches_rfc_7292_known_answer():
    # Known answer from OpenSSL's test suite (test/pkcs12_format_test / pkcs12 KDF vectors): SHA-1, password
    # "smeg", salt 0A58CF64530D823F, ID 1, 1 iteration, 24 bytes.
    derived = pkcs12_kdf.pkcs12_kdf("sha1", "smeg", bytes.fromhex("0A58CF64530D823F"), 1, 1, 24)
    assert derived.hex().upper() == "8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3"


# Our files in openssl and keytool -------------------------------------------------------------------------------------


def test_openssl_opens_our_keystore_with_every_key_matching_its_certificate(tmp_path):
    made = entries(3, expired_index=1)
    path = write(tmp_path, pfx.build_pfx(made, PASSWORD))
    info = openssl("pkcs12", "-info", "-noout", "-in", str(path), "-passin", f"pass:{PASSWORD}")
    assert info.returncode == 0, info.stderr
    assert info.stderr.decode().count("Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC") == 3
    dumped = openssl("pkcs12", "-in", str(path), "-nodes", "-passin", f"pass:{PASSWORD}")
    assert dumped.returncode == 0, dumped.stderr
    text = dumped.stdout.decode()
    keys = re.findall(r"friendlyName: (\S+).*?(-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----)", text, re.S)
    assert {alias for alias, _ in keys} == {e.alias for e in made}
    for alias, pem in keys:
        entry = next(e for e in made if e.alias == alias)
        assert modulus(pem.encode()) == format(entry.private_key.public_key().public_numbers().n, "X")
    assert text.count("BEGIN CERTIFICATE") == 3


def test_openssl_refuses_our_keystore_with_a_wrong_password(tmp_path):
    path = write(tmp_path, pfx.build_pfx(entries(1), PASSWORD))
    result = openssl("pkcs12", "-info", "-noout", "-in", str(path), "-passin", "pass:wrong password")
    assert result.returncode != 0
    assert "mac verify error" in result.stderr.decode().lower()


def test_keytool_lists_each_key_as_a_private_key_entry_under_its_alias(tmp_path):
    made = entries(3, expired_index=2)
    path = write(tmp_path, pfx.build_pfx(made, PASSWORD))
    listed = keytool("-list", "-v", "-storetype", "PKCS12", "-keystore", str(path), "-storepass", PASSWORD)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    text = listed.stdout.decode()
    assert "Your keystore contains 3 entries" in text
    found = dict(re.findall(r"Alias name: (\S+)\s+Creation date: .*?\s+Entry type: (\S+)", text))
    # Java folds PKCS#12 aliases to lower case.
    assert found == {e.alias.lower(): "PrivateKeyEntry" for e in made}
    for i in range(3):
        assert f"Owner: O=Genesys, CN=Recording {i}" in text


def test_long_and_non_ascii_aliases_are_read_by_openssl_keytool_and_us(tmp_path):
    aliases = ["r" * 64, "Aufnahme-Grüße", "录音-2026", "clé-𝄞"]  # 64 characters: 128 bytes as a BMPString
    made = [
        pfx.PfxEntry(alias, der(certificate(rsa_key(i), f"Recording {i}")), rsa_key(i))
        for i, alias in enumerate(aliases)
    ]
    path = write(tmp_path, pfx.build_pfx(made, PASSWORD))
    dumped = openssl("pkcs12", "-in", str(path), "-nodes", "-passin", f"pass:{PASSWORD}")
    assert dumped.returncode == 0, dumped.stderr
    text = dumped.stdout.decode("utf-8", "replace")  # openssl prints non-ASCII names its own way
    assert text.count("-----BEGIN PRIVATE KEY-----") == 4 and f"friendlyName: {'r' * 64}\n" in text
    assert keytool_entries(path, PASSWORD) == {alias.lower(): "PrivateKeyEntry" for alias in aliases}
    assert [key.alias for key in pfx.read_pfx(path.read_bytes(), PASSWORD).keys] == aliases


def test_real_default_iterations_are_read_by_openssl_and_keytool(tmp_path, monkeypatch):
    monkeypatch.setattr(pfx.contents, "ITERATIONS", 600_000)
    path = write(tmp_path, pfx.build_pfx(entries(2), PASSWORD))
    info = openssl("pkcs12", "-info", "-noout", "-in", str(path), "-passin", f"pass:{PASSWORD}")
    assert info.returncode == 0 and "Iteration 600000" in info.stderr.decode()
    listed = keytool("-list", "-storetype", "PKCS12", "-keystore", str(path), "-storepass", PASSWORD)
    assert listed.returncode == 0 and listed.stdout.decode().count("PrivateKeyEntry") == 2


def test_an_empty_keystore_is_a_valid_file(tmp_path):
    path = write(tmp_path, pfx.build_pfx([], PASSWORD))
    listed = keytool("-list", "-storetype", "PKCS12", "-keystore", str(path), "-storepass", PASSWORD)
    assert listed.returncode == 0 and "contains 0 entries" in listed.stdout.decode()
    assert pfx.read_pfx(path.read_bytes(), PASSWORD).keys == []


def test_encrypted_pkcs8_opens_with_openssl_and_its_password(tmp_path):
    key = rsa_key(0)
    pem = pfx.encrypted_pkcs8_pem(key, "key password 1234")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    (tmp_path / "k.pem").write_bytes(pem)
    opened = openssl("pkcs8", "-in", "k.pem", "-passin", "pass:key password 1234", cwd=tmp_path)
    assert opened.returncode == 0
    assert modulus(opened.stdout) == format(key.public_key().public_numbers().n, "X")
    assert openssl("pkcs8", "-in", "k.pem", "-passin", "pass:wrong", cwd=tmp_path).returncode != 0


# Reading files others made ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keytool_stores(tmp_path_factory):
    """Three keys made by keytool in one keystore, plus the same in the legacy (3DES keys, RC2-40 certs) format."""
    folder = tmp_path_factory.mktemp("keytool")
    store = folder / "java.p12"
    for alias in ("alpha", "bravo", "charlie"):
        made = keytool(
            "-genkeypair", "-alias", alias, "-keyalg", "RSA", "-keysize", "2048", "-dname", f"CN={alias} recording",
            "-validity", "30", "-storetype", "PKCS12", "-keystore", str(store), "-storepass", PASSWORD,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    legacy = folder / "java-legacy.p12"
    converted = keytool(
        "-J-Dkeystore.pkcs12.legacy", "-importkeystore", "-srckeystore", str(store), "-srcstoretype", "PKCS12",
        "-srcstorepass", PASSWORD, "-destkeystore", str(legacy), "-deststoretype", "PKCS12",
        "-deststorepass", PASSWORD, "-noprompt",
    )  # fmt: skip
    assert converted.returncode == 0, converted.stderr
    return store, legacy


@pytest.mark.parametrize("which", ["modern", "legacy"])
def test_every_key_of_a_keytool_keystore_is_read_with_its_certificate(keytool_stores, which):
    path = keytool_stores[0 if which == "modern" else 1]
    if which == "legacy":
        info = openssl("pkcs12", "-info", "-noout", "-legacy", "-in", str(path), "-passin", f"pass:{PASSWORD}")
        assert "pbeWithSHA1And40BitRC2-CBC" in info.stderr.decode()
        assert "pbeWithSHA1And3-KeyTripleDES-CBC" in info.stderr.decode()
    contents = pfx.read_pfx(path.read_bytes(), PASSWORD)
    assert sorted(k.alias for k in contents.keys) == ["alpha", "bravo", "charlie"]
    from cryptography import x509

    for key in contents.keys:
        assert key.certificate_der is not None, key.alias
        cert = x509.load_der_x509_certificate(key.certificate_der)
        assert cert.public_key() == key.private_key.public_key()
        assert cert.subject.rfc4514_string() == f"CN={key.alias} recording"
    assert contents.certificates_without_key == []


@pytest.mark.parametrize("legacy", [False, True], ids=["openssl-default", "openssl-legacy"])
def test_openssl_made_file_is_read_with_chain_certificates_reported(tmp_path, legacy):
    key, ca_key = rsa_key(0), rsa_key(3)
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (tmp_path / "c.pem").write_bytes(certificate(key, "Leaf").public_bytes(serialization.Encoding.PEM))
    (tmp_path / "ca.pem").write_bytes(certificate(ca_key, "Some CA").public_bytes(serialization.Encoding.PEM))
    args = ["pkcs12", "-export", "-in", "c.pem", "-inkey", "k.pem", "-certfile", "ca.pem", "-name", "leaf-2026"]
    args += ["-passout", f"pass:{PASSWORD}", "-out", "o.p12"] + (["-legacy"] if legacy else [])
    assert openssl(*args, cwd=tmp_path).returncode == 0
    contents = pfx.read_pfx((tmp_path / "o.p12").read_bytes(), PASSWORD)
    assert [k.alias for k in contents.keys] == ["leaf-2026"]
    assert rsa_numbers(contents.keys[0].private_key) == key.private_numbers()
    assert [name for name, _ in contents.certificates_without_key] == ["Some CA"]


def test_our_file_reads_back_with_aliases_and_keys(tmp_path):
    made = entries(3)
    contents = pfx.read_pfx(pfx.build_pfx(made, PASSWORD), PASSWORD)
    assert [(k.alias, k.certificate_der) for k in contents.keys] == [(e.alias, e.certificate_der) for e in made]
    assert [rsa_numbers(k.private_key) for k in contents.keys] == [rsa_numbers(e.private_key) for e in made]


def test_non_rsa_keys_are_read_so_that_they_can_be_reported(tmp_path):
    ec_key = pki.make_ec_key()
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = pkcs12.serialize_key_and_certificates(
        b"tls", ec_key, certificate(ec_key, "TLS"), None, serialization.BestAvailableEncryption(PASSWORD.encode())
    )
    contents = pfx.read_pfx(data, PASSWORD)
    assert isinstance(contents.keys[0].private_key, ec.EllipticCurvePrivateKey)


# Refusals ------------------------------------------------------------------------------------------------------------


def test_wrong_password_is_one_clear_message():
    data = pfx.build_pfx(entries(1), PASSWORD)
    with pytest.raises(pfx.PfxError, match="^The keystore password is wrong, or the file was altered.$"):
        pfx.read_pfx(data, "not the password")


@pytest.mark.parametrize("cut", [10, 200, -1, -40])
def test_truncated_file_is_reported_as_damaged(cut):
    data = pfx.build_pfx(entries(1), PASSWORD)
    with pytest.raises(pfx.PfxError, match="damaged|altered"):
        pfx.read_pfx(data[:cut], PASSWORD)


@pytest.mark.parametrize("position", [400, 1200, -200])
def test_bit_flipped_file_is_refused(position):
    data = bytearray(pfx.build_pfx(entries(1), PASSWORD))
    data[position] ^= 0x04
    with pytest.raises(pfx.PfxError):
        pfx.read_pfx(bytes(data), PASSWORD)


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "empty"),
        (b"garbage" * 20, "not a PKCS#12"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "not a PKCS#12"),
    ],
)
def test_files_that_are_not_pkcs12_are_refused(data, message):
    with pytest.raises(pfx.PfxError, match=message):
        pfx.read_pfx(data, PASSWORD)


def test_file_asking_for_excessive_work_is_refused_before_deriving_anything(monkeypatch):
    data = pfx.build_pfx(entries(1), PASSWORD, iterations=4000)
    monkeypatch.setattr("keystore.kdf.MAX_ROUNDS", 3000)
    calls = []
    monkeypatch.setattr(pkcs12_kdf, "pkcs12_kdf", lambda *a: calls.append(a))
    with pytest.raises(pfx.PfxError, match="4,000 key-derivation rounds .* at most 3,000"):
        pfx.read_pfx(data, PASSWORD)
    assert calls == []


def test_openssl_cli_is_available():
    # Interop tests above would pass vacuously if the binaries were missing: make that a failure.
    assert subprocess.run(["openssl", "version"], capture_output=True).returncode == 0
    assert subprocess.run(["keytool", "-help"], capture_output=True).returncode == 0
