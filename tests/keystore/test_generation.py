"""Keys made inside the keystore (``generate_key``) and bare keys brought from another key manager
(``store_bare_key``): each becomes an entry whose self-signed certificate carries its public key."""

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from keystore import api
from keystore.generation import MAX_BARE_KEY_BYTES
from keystore.models import KeystoreEntry
from keystore.sealing import open_private_key
from tests.keystore.helpers import openssl, rsa_key, secret_forms

SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COMMON_NAME, "Generated recording key"),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, "0b5c1e2a-3d4f-4a6b-8c7d-9e0f1a2b3c4d"),
    ]
)
NOT_BEFORE = datetime(2026, 11, 28, 9, 0, 0, tzinfo=UTC)
NOT_AFTER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
PROFILE = api.SelfSigned(subject=SUBJECT, not_before=NOT_BEFORE, not_after=NOT_AFTER)


def pkcs1_private(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def pkcs8_private(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def pkcs1_public(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def spki_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate_key(entry: KeystoreEntry) -> rsa.RSAPublicKey:
    public_key = x509.load_der_x509_certificate(bytes(entry.certificate_der)).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    return public_key


def write_pem_certificate(entry: KeystoreEntry, folder: Path) -> Path:
    path = folder / "cert.pem"
    certificate = x509.load_der_x509_certificate(bytes(entry.certificate_der))
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def unwraps(tenant, entry: KeystoreEntry, folder: Path) -> bool:
    """A data key encrypted by real openssl to the public key of the entry's certificate comes back from the keystore:
    the sealed private key is the certificate's."""
    cert = write_pem_certificate(entry, folder)
    public = folder / "public.pem"
    public.write_bytes(openssl("x509", "-in", str(cert), "-noout", "-pubkey").stdout)
    data_key = os.urandom(32)
    encrypted = openssl(
        "pkeyutl", "-encrypt", "-pubin", "-inkey", str(public), "-pkeyopt", "rsa_padding_mode:oaep", input=data_key
    )
    assert encrypted.returncode == 0, encrypted.stderr.decode()
    opened = api.SessionKeyOpener(tenant).unwrap(entry, encrypted.stdout, api.SessionKeyPadding.OAEP_SHA1)
    return opened == data_key


def refusal(tenant, **arguments) -> str:
    before = KeystoreEntry.objects.count()
    with pytest.raises(api.KeyFileError) as raised:
        api.store_bare_key(tenant, alias="imported", certificate=PROFILE, **arguments)
    assert KeystoreEntry.objects.count() == before
    return str(raised.value)


# generate_key -----------------------------------------------------------------------------------------------------


def test_a_generated_key_has_a_certificate_openssl_reads_and_verifies(world, tmp_path: Path) -> None:
    entry = api.generate_key(world.acme, alias="generated-2026", bits=2048, certificate=PROFILE)
    assert entry.tenant == world.acme and entry.alias == "generated-2026"
    cert = write_pem_certificate(entry, tmp_path)

    text = openssl("x509", "-in", str(cert), "-noout", "-text")
    assert text.returncode == 0, text.stderr.decode()
    printed = text.stdout.decode()
    assert "Public-Key: (2048 bit)" in printed
    assert "Signature Algorithm: sha256WithRSAEncryption" in printed
    assert "Subject: CN = Generated recording key, serialNumber = 0b5c1e2a-3d4f-4a6b-8c7d-9e0f1a2b3c4d" in printed
    assert "Issuer: CN = Generated recording key" in printed
    assert "Not Before: Nov 28 09:00:00 2026 GMT" in printed and "Not After : Dec 31 23:59:59 9999 GMT" in printed
    assert "CA:FALSE" in printed and "Digital Signature, Key Encipherment" in printed

    # The self-signature: openssl checks it against the certificate's own public key.
    verified = openssl("verify", "-check_ss_sig", "-CAfile", str(cert), str(cert))
    assert verified.returncode == 0 and verified.stdout.decode().strip() == f"{cert}: OK", verified.stderr.decode()
    certificate = x509.load_der_x509_certificate(bytes(entry.certificate_der))
    (tmp_path / "tbs").write_bytes(certificate.tbs_certificate_bytes)
    (tmp_path / "signature").write_bytes(certificate.signature)
    (tmp_path / "public.pem").write_bytes(openssl("x509", "-in", str(cert), "-noout", "-pubkey").stdout)
    checked = openssl("dgst", "-sha256", "-verify", "public.pem", "-signature", "signature", "tbs", cwd=tmp_path)
    assert checked.stdout.decode().strip() == "Verified OK"

    api.verify_entry(KeystoreEntry.objects.get(pk=entry.pk))
    assert unwraps(world.acme, entry, tmp_path)


def test_a_changed_signature_is_caught_by_openssl(world, tmp_path: Path) -> None:
    """The signature check above can fail: the same certificate with one signature byte changed does not verify."""
    entry = api.generate_key(world.acme, alias="generated-2026", bits=2048, certificate=PROFILE)
    certificate = x509.load_der_x509_certificate(bytes(entry.certificate_der))
    signature = bytearray(certificate.signature)
    signature[10] ^= 1
    (tmp_path / "tbs").write_bytes(certificate.tbs_certificate_bytes)
    (tmp_path / "signature").write_bytes(bytes(signature))
    write_pem_certificate(entry, tmp_path)
    (tmp_path / "public.pem").write_bytes(openssl("x509", "-in", "cert.pem", "-noout", "-pubkey", cwd=tmp_path).stdout)
    checked = openssl("dgst", "-sha256", "-verify", "public.pem", "-signature", "signature", "tbs", cwd=tmp_path)
    assert checked.returncode != 0 and "Verified OK" not in checked.stdout.decode()


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
def test_each_offered_size_is_generated(world, bits: int) -> None:
    entry = api.generate_key(world.acme, alias=f"generated-{bits}", bits=bits, certificate=PROFILE)
    assert certificate_key(entry).key_size == bits
    assert certificate_key(entry).public_numbers().e == 65537
    assert open_private_key(entry).key_size == bits


def test_the_certificate_names_what_it_was_asked_to(world) -> None:
    entry = api.generate_key(world.acme, alias="generated-2026", bits=2048, certificate=PROFILE)
    certificate = x509.load_der_x509_certificate(bytes(entry.certificate_der))
    assert certificate.subject == certificate.issuer == SUBJECT
    assert certificate.not_valid_before_utc == NOT_BEFORE and certificate.not_valid_after_utc == NOT_AFTER
    assert certificate.version == x509.Version.v3 and certificate.serial_number > 0
    assert certificate.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).critical
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert ski.digest == aki.key_identifier


def test_two_generated_keys_differ(world) -> None:
    first = api.generate_key(world.acme, alias="first", bits=2048, certificate=PROFILE)
    second = api.generate_key(world.acme, alias="second", bits=2048, certificate=PROFILE)
    public = [certificate_key(entry).public_numbers() for entry in (first, second)]
    assert public[0] != public[1]


def test_the_generated_private_key_is_stored_only_sealed(world) -> None:
    entry = api.generate_key(world.acme, alias="generated-2026", bits=2048, certificate=PROFILE)
    key = open_private_key(entry)
    stored = b"".join(
        bytes(value)
        for row in KeystoreEntry.objects.values_list("certificate_der", "sealed_private_key")
        for value in row
    )
    leaked = [form for form, value in secret_forms(key).items() if value in stored]
    assert leaked == []


@pytest.mark.parametrize("bits", [1024, 2047, 2049, 3071, 8192, 0, -2048])
def test_sizes_not_offered_are_refused(world, bits: int) -> None:
    with pytest.raises(api.KeyFileError) as raised:
        api.generate_key(world.acme, alias="generated", bits=bits, certificate=PROFILE)
    assert str(raised.value) == f"Keys are generated with 2048, 3072, 4096 bits; {bits} is not one of them."
    assert not KeystoreEntry.objects.exists()


def test_an_alias_already_taken_is_refused(world) -> None:
    api.generate_key(world.acme, alias="generated-2026", bits=2048, certificate=PROFILE)
    with pytest.raises(api.AliasError):
        api.generate_key(world.acme, alias="Generated-2026", bits=2048, certificate=PROFILE)
    assert KeystoreEntry.objects.count() == 1


# store_bare_key ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "private_form,public_form",
    [(pkcs1_private, pkcs1_public), (pkcs8_private, spki_public), (pkcs1_private, spki_public)],
    ids=["pkcs1-pkcs1", "pkcs8-spki", "pkcs1-spki"],
)
def test_a_bare_key_is_stored_with_a_certificate_for_it(world, tmp_path: Path, private_form, public_form) -> None:
    key = rsa_key(0)
    entry = api.store_bare_key(
        world.acme,
        alias="imported",
        private_key_der=private_form(key),
        public_key_der=public_form(key),
        certificate=PROFILE,
    )
    assert certificate_key(entry).public_numbers() == key.public_key().public_numbers()
    certificate = x509.load_der_x509_certificate(bytes(entry.certificate_der))
    assert certificate.subject == SUBJECT and certificate.not_valid_before_utc == NOT_BEFORE
    certificate.verify_directly_issued_by(certificate)
    api.verify_entry(KeystoreEntry.objects.get(pk=entry.pk))
    assert unwraps(world.acme, entry, tmp_path)
    # The same private key: what the other key manager's public key encrypts, the stored key opens.
    data_key = os.urandom(32)
    wrapped = key.public_key().encrypt(data_key, padding.PKCS1v15())
    assert api.SessionKeyOpener(world.acme).unwrap(entry, wrapped, api.SessionKeyPadding.PKCS1V15) == data_key


def test_a_private_key_that_does_not_match_its_public_key_is_refused(world) -> None:
    message = refusal(world.acme, private_key_der=pkcs1_private(rsa_key(0)), public_key_der=pkcs1_public(rsa_key(1)))
    assert message == "The private key does not match its public key."


def test_a_public_key_of_another_type_is_refused_as_a_mismatch(world) -> None:
    message = refusal(
        world.acme,
        private_key_der=pkcs1_private(rsa_key(0)),
        public_key_der=spki_public(ec.generate_private_key(ec.SECP256R1())),
    )
    assert message == "The private key does not match its public key."


@pytest.mark.parametrize(
    "key,name",
    [(ec.generate_private_key(ec.SECP256R1()), "EC"), (ec.generate_private_key(ec.SECP384R1()), "EC")],
    ids=["p256", "p384"],
)
def test_a_key_that_is_not_rsa_is_refused(world, key, name: str) -> None:
    message = refusal(world.acme, private_key_der=pkcs8_private(key), public_key_der=spki_public(key))
    assert message == f"The private key is {name}; only RSA keys are accepted."


def test_an_ed25519_key_is_refused(world) -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    message = refusal(world.acme, private_key_der=pkcs8_private(key), public_key_der=spki_public(key))
    assert message == "The private key is Ed25519; only RSA keys are accepted."


def test_a_key_that_is_too_small_is_refused(world) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    message = refusal(world.acme, private_key_der=pkcs1_private(small), public_key_der=pkcs1_public(small))
    assert message == "The RSA key is 1024 bits; at least 2048 are required."


@pytest.mark.parametrize(
    "private,public,message",
    [
        (b"not a key at all", None, "The private key is not a DER RSA private key (PKCS#1 or PKCS#8)."),
        (b"", None, "The private key is not a DER RSA private key (PKCS#1 or PKCS#8)."),
        (None, b"\x30\x03\x02\x01\x05", "The public key is not a DER RSA public key."),
        (None, b"", "The public key is not a DER RSA public key."),
    ],
    ids=["garbage-private", "empty-private", "garbage-public", "empty-public"],
)
def test_garbage_is_refused(world, private, public, message: str) -> None:
    key = rsa_key(0)
    arguments = {
        "private_key_der": pkcs1_private(key) if private is None else private,
        "public_key_der": pkcs1_public(key) if public is None else public,
    }
    assert refusal(world.acme, **arguments) == message


def test_a_truncated_private_key_is_refused(world) -> None:
    key = rsa_key(0)
    message = refusal(world.acme, private_key_der=pkcs1_private(key)[:-20], public_key_der=pkcs1_public(key))
    assert message == "The private key is not a DER RSA private key (PKCS#1 or PKCS#8)."


def test_an_inconsistent_private_key_is_refused(world) -> None:
    """A key whose numbers disagree (a damaged private exponent) loads, but is not sealed."""
    key = rsa_key(0)
    numbers = key.private_numbers()
    damaged = rsa.RSAPrivateNumbers(
        p=numbers.p,
        q=numbers.q,
        d=numbers.d ^ 2,
        dmp1=numbers.dmp1,
        dmq1=numbers.dmq1,
        iqmp=numbers.iqmp,
        public_numbers=numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)
    with pytest.raises(api.KeyFileError):
        api.store_bare_key(
            world.acme,
            alias="imported",
            private_key_der=pkcs1_private(damaged),
            public_key_der=pkcs1_public(key),
            certificate=PROFILE,
        )
    assert not KeystoreEntry.objects.exists()


@pytest.mark.parametrize("which", ["private", "public"])
def test_an_oversized_key_is_refused_before_it_is_parsed(world, monkeypatch, which: str) -> None:
    key = rsa_key(0)
    parsed = []
    monkeypatch.setattr(serialization, "load_der_private_key", lambda *a, **k: parsed.append(a))
    monkeypatch.setattr(serialization, "load_der_public_key", lambda *a, **k: parsed.append(a))
    oversized = b"\x00" * (MAX_BARE_KEY_BYTES + 1)
    arguments = {
        "private_key_der": oversized if which == "private" else pkcs1_private(key),
        "public_key_der": oversized if which == "public" else pkcs1_public(key),
    }
    assert refusal(world.acme, **arguments) == "The key is larger than any RSA key this portal accepts."
    assert parsed == []


def test_the_largest_accepted_size_is_above_an_8192_bit_key() -> None:
    # A DER PKCS#1 RSA-8192 key (the largest the portal accepts) is about 4.7 KB.
    assert MAX_BARE_KEY_BYTES >= 8 * 1024


def test_refusals_carry_no_key_material(world) -> None:
    key, other = rsa_key(0), rsa_key(1)
    messages = [
        refusal(world.acme, private_key_der=pkcs1_private(key), public_key_der=pkcs1_public(other)),
        refusal(world.acme, private_key_der=pkcs1_private(key)[:-20], public_key_der=pkcs1_public(key)),
    ]
    for form, value in {**secret_forms(key), **secret_forms(other)}.items():
        assert not any(value in message.encode() for message in messages), form


def test_the_stored_bare_key_is_only_sealed(world) -> None:
    key = rsa_key(2)
    api.store_bare_key(
        world.acme,
        alias="imported",
        private_key_der=pkcs1_private(key),
        public_key_der=pkcs1_public(key),
        certificate=PROFILE,
    )
    stored = b"".join(
        bytes(value)
        for row in KeystoreEntry.objects.values_list("certificate_der", "sealed_private_key")
        for value in row
    )
    assert [form for form, value in secret_forms(key).items() if value in stored] == []


def test_openssl_reads_the_bare_keys_certificate(world, tmp_path: Path) -> None:
    key = rsa_key(0)
    entry = api.store_bare_key(
        world.acme,
        alias="imported",
        private_key_der=pkcs1_private(key),
        public_key_der=pkcs1_public(key),
        certificate=PROFILE,
    )
    cert = write_pem_certificate(entry, tmp_path)
    assert openssl("verify", "-check_ss_sig", "-CAfile", str(cert), str(cert)).returncode == 0
    modulus = openssl("x509", "-in", str(cert), "-noout", "-modulus").stdout.decode().strip()
    assert modulus == f"Modulus={key.public_key().public_numbers().n:X}"
