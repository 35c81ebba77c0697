"""The one decryption path (Decryptor) with the tenant's keystore: every writer and variant the recording platform
or an administrator's own tools produce, several recipients, and the key that does not open the session key."""

import io
import os
from pathlib import Path

import pytest
from cryptography import x509

from portal.audit.log import COMMAND
from recordings.cms import open_envelope
from recordings.decrypting import Decryptor, Outcome
from tests.certificates import pki
from tests.conftest import World
from tests.factories import make_certificate, save_certificate
from tests.recordings.envelopes import builder_recording, certificate_of, openssl_encrypt

pytestmark = pytest.mark.django_db

CONTENT = os.urandom(70_001)  # not a whole number of AES blocks

VARIANTS = {
    "smime DER aes128": ("smime", ("-aes128",)),
    "smime S/MIME aes256": ("smime", ("-aes256", "-outform", "SMIME")),
    "smime PEM aes192": ("smime", ("-aes192", "-outform", "PEM")),
    "cms DER": ("cms", ("-aes256",)),
    "cms PEM streamed": ("cms", ("-aes256", "-outform", "PEM", "-stream")),
    "cms DER streamed": ("cms", ("-aes256", "-stream")),
    "cms OAEP SHA-1": ("cms", ("-aes256", "-keyopt", "rsa_padding_mode:oaep")),
    "cms OAEP SHA-256": ("cms", ("-aes256", "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256")),
    "cms AES-128-GCM": ("cms", ("-aes-128-gcm",)),
    "cms AES-256-GCM OAEP SHA-256": (
        "cms",
        ("-aes-256-gcm", "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"),
    ),
}


def _decrypt(world: World, data: bytes) -> tuple[Outcome, bytes]:
    received = bytearray()
    outcome = Decryptor(world.acme, by=COMMAND, source="test").decrypt(
        "call.bin", len(data), io.BytesIO(data), received.extend
    )
    return outcome, bytes(received)


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_openssl_variant_decrypts_byte_for_byte(world: World, tmp_path: Path, variant: str) -> None:
    certificate = make_certificate(world.acme, "tenant-key")
    tool, options = VARIANTS[variant]
    data = openssl_encrypt(CONTENT, [certificate_of(certificate)], tmp_path, *options, tool=tool)
    [recipient] = open_envelope(io.BytesIO(data)).recipients
    transport = (
        "oaep-sha256" if "rsa_oaep_md:sha256" in options else "oaep-sha1" if "-keyopt" in options else "pkcs1v15"
    )
    assert recipient.transport == transport
    outcome, plaintext = _decrypt(world, data)
    assert (outcome.error, outcome.alias, plaintext) == ("", "tenant-key", CONTENT)
    assert outcome.plaintext_size == len(CONTENT)


def test_a_subject_key_identifier_recipient_decrypts(world: World, tmp_path: Path) -> None:
    key = pki.make_key(2048, 9)
    identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert, _ = pki.make_self_signed(key, "Genesys Recording", extensions=[(identifier, False)])
    save_certificate(world.acme, cert, key, alias="keyid-key")
    data = openssl_encrypt(CONTENT, [cert], tmp_path, "-aes256", "-keyid", tool="cms")
    outcome, plaintext = _decrypt(world, data)
    assert (outcome.ok, outcome.alias, plaintext) == (True, "keyid-key", CONTENT)


def test_the_cryptography_packages_envelopes_decrypt(world: World) -> None:
    certificate = make_certificate(world.acme, "builder-key")
    outcome, plaintext = _decrypt(world, builder_recording(CONTENT, certificate_of(certificate)))
    assert (outcome.ok, outcome.alias, plaintext) == (True, "builder-key", CONTENT)


def test_any_recipient_in_the_keystore_opens_an_envelope_for_several(world: World, tmp_path: Path) -> None:
    elsewhere = make_certificate(world.globex, "not-ours", key_index=4)
    ours = make_certificate(world.acme, "ours", key_index=5, archived=True)
    data = openssl_encrypt(
        CONTENT, [certificate_of(elsewhere), certificate_of(ours)], tmp_path, "-aes256", tool="smime"
    )
    outcome, plaintext = _decrypt(world, data)
    assert (outcome.ok, outcome.alias, plaintext) == (True, "ours", CONTENT)


def test_a_key_that_does_not_open_the_session_key_says_so(world: World, tmp_path: Path) -> None:
    # Two certificates with one issuer and serial number but different keys: the envelope names ours, and was
    # encrypted for the other key.
    stored, stored_key = pki.make_self_signed(pki.make_key(2048, 6), "Genesys Recording", serial=4242)
    impostor, _ = pki.make_self_signed(pki.make_key(2048, 7), "Genesys Recording", serial=4242)
    save_certificate(world.acme, stored, stored_key, alias="named-key")
    data = openssl_encrypt(CONTENT, [impostor], tmp_path, "-aes256", tool="smime")
    outcome, plaintext = _decrypt(world, data)
    assert outcome.alias == "named-key"
    assert outcome.error == "The key 'named-key' does not open its session key."


def test_a_recipient_outside_the_keystore_is_named(world: World, tmp_path: Path) -> None:
    make_certificate(world.acme, "ours")
    other, _ = pki.make_self_signed(pki.make_key(2048, 8), "Other Recording", serial=0xBEEF)
    outcome, _ = _decrypt(world, openssl_encrypt(CONTENT, [other], tmp_path, "-aes256", tool="smime"))
    assert outcome.alias is None
    assert "CN=Other Recording" in outcome.error and "serial 0xBEEF" in outcome.error.replace("0xbeef", "0xBEEF")
    assert "not in the keystore" in outcome.error


@pytest.mark.parametrize(
    "data,words",
    [
        (b"", "empty"),
        (b"RIFF....WAVEfmt not encrypted at all", "not"),
        (pki.der(pki.make_self_signed()[0]), "not"),
    ],
)
def test_what_is_not_a_recording_says_so(world: World, data: bytes, words: str) -> None:
    outcome, plaintext = _decrypt(world, data)
    assert not outcome.ok and words in outcome.error.lower() and plaintext == b""


def test_a_truncated_recording_fails_at_its_end(world: World, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "key")
    data = openssl_encrypt(CONTENT, [certificate_of(certificate)], tmp_path, "-aes256", tool="smime")
    outcome, _ = _decrypt(world, data[:-100])
    assert not outcome.ok and "cut short" in outcome.error
