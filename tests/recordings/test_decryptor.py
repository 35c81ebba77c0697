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

OAEP_SHA1 = ("rsa_padding_mode:oaep",)
OAEP_SHA256 = ("rsa_padding_mode:oaep", "rsa_oaep_md:sha256")
# (tool, options, keyopts, the key transport the recipient then names)
VARIANTS = {
    "smime DER aes128": ("smime", ("-aes128",), (), "pkcs1v15"),
    "smime S/MIME aes256": ("smime", ("-aes256", "-outform", "SMIME"), (), "pkcs1v15"),
    "smime PEM aes192": ("smime", ("-aes192", "-outform", "PEM"), (), "pkcs1v15"),
    "cms DER": ("cms", ("-aes256",), (), "pkcs1v15"),
    "cms PEM streamed": ("cms", ("-aes256", "-outform", "PEM", "-stream"), (), "pkcs1v15"),
    "cms DER streamed": ("cms", ("-aes256", "-stream"), (), "pkcs1v15"),
    "cms OAEP SHA-1": ("cms", ("-aes256",), OAEP_SHA1, "oaep-sha1"),
    "cms OAEP SHA-256": ("cms", ("-aes256",), OAEP_SHA256, "oaep-sha256"),
    "cms AES-128-GCM": ("cms", ("-aes-128-gcm",), (), "pkcs1v15"),
    "cms AES-256-GCM OAEP SHA-256": ("cms", ("-aes-256-gcm",), OAEP_SHA256, "oaep-sha256"),
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
    tool, options, keyopts, transport = VARIANTS[variant]
    data = openssl_encrypt(CONTENT, [certificate_of(certificate)], tmp_path, *options, tool=tool, keyopts=keyopts)
    [recipient] = open_envelope(io.BytesIO(data)).recipients
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
    assert outcome.alias == "named-key" and not outcome.ok
    # Under PKCS#1 v1.5 the wrong key usually gives a session key of the wrong length, and now and then one of the
    # right length whose content then fails its padding check; the message then also allows a damaged recording.
    assert outcome.error in {
        "The key 'named-key' does not open its session key.",
        "The key 'named-key' does not open its session key, or the recording is damaged (its decrypted content has "
        "bad padding).",
    }


@pytest.mark.parametrize(
    ("options", "keyopts", "says"),
    [
        (
            ("-aes256",),
            (),
            "The key 'tenant-key' does not open its session key, or the recording is damaged (its "
            "decrypted content has bad padding).",
        ),
        (("-aes256",), OAEP_SHA256, "The recording is damaged: its decrypted content has bad padding."),
    ],
)
def test_bad_padding_names_the_key_only_where_a_wrong_key_can_cause_it(
    world: World, tmp_path: Path, options: tuple[str, ...], keyopts: tuple[str, ...], says: str
) -> None:
    certificate = make_certificate(world.acme, "tenant-key")
    data = bytearray(
        openssl_encrypt(CONTENT, [certificate_of(certificate)], tmp_path, *options, tool="cms", keyopts=keyopts)
    )
    # The content is the file's last bytes: flipping the last byte of the next-to-last block flips the padding
    # byte of the last block to 0xF0 or more, which no padding has.
    data[-17] ^= 0xFF
    outcome, _ = _decrypt(world, bytes(data))
    assert (outcome.ok, outcome.alias, outcome.error) == (False, "tenant-key", says)


def test_a_recipient_outside_the_keystore_is_named(world: World, tmp_path: Path) -> None:
    make_certificate(world.acme, "ours")
    other, _ = pki.make_self_signed(pki.make_key(2048, 8), "Other Recording", serial=0xBEEF)
    outcome, _ = _decrypt(world, openssl_encrypt(CONTENT, [other], tmp_path, "-aes256", tool="smime"))
    assert outcome.alias is None
    assert "CN=Other Recording" in outcome.error and "serial 0xBEEF" in outcome.error.replace("0xbeef", "0xBEEF")
    assert "not in the keystore" in outcome.error


NOT_AN_ENVELOPE = "The file is not a PKCS#7 envelope (DER, PEM or S/MIME)."


@pytest.mark.parametrize(
    "data,error",
    [
        (b"", "The file is empty."),
        (b"RIFF....WAVEfmt not encrypted at all", NOT_AN_ENVELOPE),
        (pki.der(pki.make_self_signed()[0]), NOT_AN_ENVELOPE),
    ],
    ids=["empty", "audio", "certificate"],
)
def test_what_is_not_a_recording_says_so(world: World, data: bytes, error: str) -> None:
    outcome, plaintext = _decrypt(world, data)
    assert (outcome.error, outcome.alias, plaintext) == (error, None, b"")


def test_a_truncated_recording_fails_at_its_end(world: World, tmp_path: Path) -> None:
    certificate = make_certificate(world.acme, "key")
    data = openssl_encrypt(CONTENT, [certificate_of(certificate)], tmp_path, "-aes256", tool="smime")
    outcome, _ = _decrypt(world, data[:-100])
    assert not outcome.ok and "cut short" in outcome.error
