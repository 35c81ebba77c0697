"""Key files in every format the seeds accept, made by openssl as the seeds make them, and the ones refused."""

import copy
import gc
import pickle

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from keystore import api, keyfiles
from keystore.keyfiles import KeyFileError, describe_key_file, load_private_key, open_key_file, spki_sha256
from tests.certificates import pki
from tests.keystore.helpers import certificate, rsa_key

PASS = "key file pass 99"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """tenant.key as the seeds make it, and its conversions."""
    from tests.keystore.helpers import openssl

    folder = tmp_path_factory.mktemp("keys")

    def run(*args):
        result = openssl(*args, cwd=folder)
        assert result.returncode == 0, result.stderr
        return result

    run("genrsa", "-out", "tenant.key", "2048")
    run("rsa", "-in", "tenant.key", "-traditional", "-out", "traditional.pem")
    run("pkcs8", "-topk8", "-inform", "pem", "-in", "tenant.key", "-outform", "pem", "-nocrypt", "-out", "private.pem")
    run("pkcs8", "-topk8", "-in", "tenant.key", "-v2", "aes-256-cbc", "-passout", f"pass:{PASS}", "-out", "enc.pem")
    run("rsa", "-in", "tenant.key", "-aes256", "-traditional", "-passout", f"pass:{PASS}", "-out", "legacy.pem")
    run("rsa", "-in", "tenant.key", "-traditional", "-outform", "DER", "-out", "traditional.der")
    run("pkcs8", "-topk8", "-in", "tenant.key", "-nocrypt", "-outform", "DER", "-out", "private.der")
    run("pkcs8", "-topk8", "-in", "tenant.key", "-v2", "aes-256-cbc", "-passout", f"pass:{PASS}", "-outform", "DER",
        "-out", "enc.der")  # fmt: skip
    run("genrsa", "-out", "small.key", "1024")
    run("rsa", "-in", "tenant.key", "-pubout", "-out", "public.pem")
    run(
        "req", "-new", "-x509", "-key", "tenant.key", "-out", "cert.pem", "-subj", "/CN=Genesys Recording", "-days", "2"
    )
    run("pkcs12", "-export", "-in", "cert.pem", "-inkey", "tenant.key", "-passout", f"pass:{PASS}", "-out", "k.p12")
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    files["expected_spki"] = spki_sha256(pki.load_rsa_key(files["tenant.key"]).public_key())
    return files


@pytest.mark.parametrize(
    "name,kind,encrypted",
    [
        ("traditional.pem", "OpenSSL RSA private key", False),
        ("private.pem", "PKCS#8 private key", False),
        ("enc.pem", "Encrypted PKCS#8 private key", True),
        ("legacy.pem", "Legacy encrypted OpenSSL RSA private key (DEK-Info)", True),
        ("traditional.der", "OpenSSL RSA private key (DER)", False),
        ("private.der", "PKCS#8 private key (DER)", False),
        ("enc.der", "Encrypted PKCS#8 private key (DER)", True),
    ],
)
def test_each_accepted_format_is_described_and_opened(made, name, kind, encrypted):
    data = made[name]
    described = describe_key_file(data)
    assert (described.kind, described.encrypted) == (kind, encrypted)
    assert described.key_size == (None if encrypted else 2048)
    info = open_key_file(data, PASS if encrypted else None).info
    assert info.key_size == 2048 and info.public_key_spki_sha256 == made["expected_spki"]
    assert spki_sha256(load_private_key(data, PASS if encrypted else None).public_key()) == made["expected_spki"]


@pytest.mark.parametrize("name", ["enc.pem", "legacy.pem", "enc.der"])
def test_encrypted_key_with_wrong_or_missing_password(made, name):
    with pytest.raises(KeyFileError, match="The Private Key Password is wrong, or the key file is damaged."):
        load_private_key(made[name], "wrong password")
    with pytest.raises(KeyFileError, match="This key is encrypted: enter its Private Key Password."):
        load_private_key(made[name], None)


def _pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.mark.parametrize(
    "source,message",
    [
        ("small.key", "The RSA key is 1024 bits; at least 2048 are required."),
        ("public.pem", "This is a public key; the Key File must be the private key."),
        ("cert.pem", "This is a certificate, not a private key. Choose it under Certificate File."),
        ("k.p12", "This is a PKCS#12 (.p12/.pfx) file; restore it as a keystore backup instead."),
        ("ec", "The key is EC; recording keys must be RSA, 2048 bits or more."),
        ("ed25519", "The key is Ed25519; recording keys must be RSA, 2048 bits or more."),
        ("ec-traditional", "The key file holds an EC key; recording keys must be RSA PEM or DER."),
        ("empty", "The key file is empty."),
        ("garbage", "The key file is not a private key: it is neither PEM nor DER."),
        ("cert-der", "This looks like a certificate, not a private key. Choose it under Certificate File."),
        ("truncated", "The key file is damaged: it could not be read as a private key."),
    ],
)
def test_refused_files_get_one_user_facing_message(made, source, message):
    ec_key = pki.make_ec_key()
    data = {
        "ec": _pem(ec_key),
        "ed25519": _pem(ed25519.Ed25519PrivateKey.generate()),
        "ec-traditional": ec_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ),
        "empty": b"  \n",
        "garbage": b"\x01\x02 hello",
        "cert-der": certificate(rsa_key(0)).public_bytes(serialization.Encoding.DER),
        "truncated": made["private.der"][:300],
    }.get(source) or made[source]
    with pytest.raises(KeyFileError) as excinfo:
        load_private_key(data, PASS)
    assert str(excinfo.value) == message


@pytest.mark.parametrize("field", ["private_exponent", "exponent1", "coefficient", "prime1"])
def test_key_with_inconsistent_numbers_is_refused(field):
    from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]

    traditional = rsa_key(0).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    parsed = asn1_keys.RSAPrivateKey.load(traditional)
    altered = asn1_keys.RSAPrivateKey({name: parsed[name].native for name in parsed})
    altered[field] = parsed[field].native + 2
    with pytest.raises(KeyFileError) as excinfo:
        load_private_key(altered.dump(), None)
    assert str(excinfo.value) == "The key file is damaged: the numbers of the RSA key do not agree with each other."


def test_consistent_key_check_accepts_what_openssl_accepts(made):
    # The seed's own key (openssl genrsa) passes the quick check, and so does every key cryptography generates.
    assert load_private_key(made["tenant.key"], None).key_size == 2048
    for index in range(3):
        pem = rsa_key(index).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        assert load_private_key(pem, None).private_numbers() == rsa_key(index).private_numbers()


@pytest.mark.parametrize("name", ["enc.pem", "enc.der"])
def test_key_asking_for_too_many_derivation_rounds_is_refused_before_any_work(made, name, monkeypatch):
    # openssl writes 2,048 rounds; lowering the cap stands in for a file asking for billions.
    monkeypatch.setattr("keystore.kdf.MAX_ROUNDS", 2047)
    with pytest.raises(KeyFileError, match="asks for 2,048 key-derivation rounds .*; this portal allows at most 2,047"):
        load_private_key(made[name], PASS)
    monkeypatch.setattr("keystore.kdf.MAX_ROUNDS", 2048)
    assert load_private_key(made[name], PASS).key_size == 2048


def test_an_opened_key_file_keeps_the_key_out_of_reach(made):
    opened = api.open_key_file(made["enc.pem"], PASS)
    assert opened.info.description == "Encrypted PKCS#8 private key, RSA 2048 bits"
    assert repr(opened) == "<OpenedKeyFile: Encrypted PKCS#8 private key, RSA 2048 bits>"
    # The key is no attribute of the handle, it cannot be added to it, and the handle is not pickled or copied.
    assert not [name for name in dir(opened) if isinstance(getattr(opened, name), rsa.RSAPrivateKey)]
    with pytest.raises(AttributeError):
        setattr(opened, "key", rsa_key(0))  # noqa: B010  (the point: no such attribute can be set)
    for duplicate in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="open the file again"):
            duplicate(opened)
    # The keystore finds the key by the handle, and forgets it with the handle.
    assert (
        keyfiles.private_key_of(opened).private_numbers()
        == load_private_key(made["tenant.key"], None).private_numbers()
    )
    held = len(keyfiles._OPENED)
    del opened
    gc.collect()
    assert len(keyfiles._OPENED) == held - 1


# PEM blocks are found in one pass ------------------------------------------------------------------------------------

_UPLOAD_LIMIT = 250 * 1024


def _fill(unit: bytes, tail: bytes = b"") -> bytes:
    return unit * ((_UPLOAD_LIMIT - len(tail)) // len(unit)) + tail


@pytest.fixture
def marker_scans(monkeypatch):
    """How often the PEM markers are searched for, and how many markers the searches yield."""
    counts = {"scans": 0, "markers": 0}
    real = keyfiles._PEM_MARKER

    class Counting:
        def finditer(self, text):
            counts["scans"] += 1
            for match in real.finditer(text):
                counts["markers"] += 1
                yield match

    monkeypatch.setattr(keyfiles, "_PEM_MARKER", Counting())
    return counts


@pytest.mark.parametrize(
    "name,data,message",
    [
        # A lazy regex with a back-reference rescanned the rest of the file from each of these BEGIN lines: minutes.
        (
            "repeated BEGIN lines",
            _fill(b"-----BEGIN X-----\n"),
            "The key file is not a private key: it is neither PEM nor DER.",
        ),
        (
            "BEGIN without END",
            _fill(b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", b"").replace(
                b"MIIE", b"-----BEGIN RSA PRIVATE KEY-----\nMIIE", 1
            ),
            "The key file is not a private key: it is neither PEM nor DER.",
        ),
        (
            "distinct labels",
            b"".join(b"-----BEGIN L%d-----\n" % i for i in range(11_000)),
            "The key file is not a private key: it is neither PEM nor DER.",
        ),
        (
            "nested labels, one END",
            _fill(b"-----BEGIN PRIVATE KEY-----\n", b"-----END PRIVATE KEY-----\n"),
            "The key file is damaged: it could not be read as a private key.",
        ),
        (
            "blocks inside blocks",
            _fill(
                b"-----BEGIN CERTIFICATE-----\n-----BEGIN X509 CRL-----\n",
                b"-----END X509 CRL-----\n-----END CERTIFICATE-----\n",
            ),
            "This is a certificate, not a private key. Choose it under Certificate File.",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "",
)
def test_pem_markers_are_scanned_once_whatever_the_file_holds(marker_scans, name, data, message):
    assert len(data) <= keyfiles.MAX_KEY_FILE_BYTES
    with pytest.raises(KeyFileError) as excinfo:
        describe_key_file(data)
    assert str(excinfo.value) == message
    # One pass over the file, each marker yielded once: no rescanning from each BEGIN.
    assert marker_scans["scans"] == 1
    assert marker_scans["markers"] == data.count(b"-----BEGIN ") + data.count(b"-----END ")


def test_a_key_among_other_blocks_and_text_is_found_with_one_scan(made, marker_scans):
    data = b"Key for the recorder\n" + made["cert.pem"] + made["private.pem"] + b"-----BEGIN X-----\n" * 100
    assert describe_key_file(data).description == "PKCS#8 private key, RSA 2048 bits"
    assert marker_scans["scans"] == 1
