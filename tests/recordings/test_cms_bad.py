"""Bad recordings get one specific sentence, as a RecordingError subclass and never another exception: files that
are not envelopes, envelopes this reader cannot open, and truncated, corrupted or hostile ones."""

import os
import random

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from recordings.cms import DamagedRecording, NotAnEnvelope, RecordingError, UnsupportedEnvelope

from .cms_kit import (
    INTEGER_0,
    OID_AES256_CBC,
    OID_DATA,
    OID_ENVELOPED,
    cbc_parts,
    decrypt,
    enveloped,
    failure,
    indefinite,
    open_bytes,
    openssl,
    party,
    tlv,
)

PAYLOAD = os.urandom(40_000)


def made(*command: str) -> bytes:
    return openssl(*command, party().certificate_path, stdin=PAYLOAD)


def test_an_empty_file_is_not_an_envelope():
    error = failure(b"")
    assert isinstance(error, NotAnEnvelope)
    assert str(error) == "The file is empty."


@pytest.mark.parametrize(
    "data",
    [
        b"\x01" + os.urandom(1000),
        b"hello, this is a plain text file\n",
        b"PK\x03\x04" + os.urandom(100),
        b"\x30\x03\x02\x01\x00",  # SEQUENCE { INTEGER 0 }
        b"   \n\t ",
    ],
    ids=["random", "text", "zip", "sequence-of-integer", "whitespace"],
)
def test_other_files_are_not_envelopes(data):
    assert isinstance(failure(data), NotAnEnvelope)


def test_a_certificate_is_not_an_envelope():
    certificate = party().certificate
    assert isinstance(failure(certificate.public_bytes(serialization.Encoding.DER)), NotAnEnvelope)
    error = failure(certificate.public_bytes(serialization.Encoding.PEM))
    assert isinstance(error, NotAnEnvelope)
    assert str(error) == "The file is a PEM CERTIFICATE, not a PKCS#7 envelope."


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["cms", "-sign", "-nodetach", "-outform", "DER"], "The file is PKCS#7 signed data, not an encrypted"),
        (["smime", "-sign", "-nodetach"], "The file is PKCS#7 signed data, not an encrypted"),
        (["smime", "-sign"], "The file is a signed S/MIME message, not an encrypted one."),
    ],
    ids=["cms-der", "smime-opaque", "smime-clear"],
)
def test_signed_data_is_not_an_envelope(command, message):
    alpha = party()
    signed = openssl(*command, "-signer", alpha.certificate_path, "-inkey", alpha.key_path, stdin=b"signed")

    error = failure(signed)
    assert isinstance(error, NotAnEnvelope)
    assert str(error).startswith(message)


def ec_certificate_path(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    key_path = tmp_path / "ec.key"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path = tmp_path / "ec.crt"
    path.write_bytes(openssl("req", "-x509", "-new", "-key", key_path, "-subj", "/CN=EC recipient", "-days", "2"))
    return path


@pytest.mark.parametrize(
    ("options", "way"),
    [
        (["-pwri_password", "correct horse"], "a password"),
        (["-secretkey", "000102030405060708090a0b0c0d0e0f", "-secretkeyid", "0102"], "a previously distributed key"),
    ],
    ids=["password", "kek"],
)
def test_recipients_without_an_rsa_key_are_unsupported(options, way):
    envelope = openssl("cms", "-encrypt", "-binary", "-aes-128-cbc", "-outform", "DER", *options, stdin=b"x")

    error = failure(envelope)
    assert isinstance(error, UnsupportedEnvelope)
    assert (
        str(error)
        == f"The recording's session key is shared through {way}, not through an RSA key; this is not supported."
    )


def test_key_agreement_recipients_are_skipped_and_alone_unsupported(tmp_path):
    ec_path = ec_certificate_path(tmp_path)
    command = ["cms", "-encrypt", "-binary", "-aes-128-cbc", "-outform", "DER"]

    error = failure(openssl(*command, ec_path, stdin=b"x"))
    assert isinstance(error, UnsupportedEnvelope)
    assert "key agreement" in str(error)
    both = openssl(*command, ec_path, party().certificate_path, stdin=b"two recipients")
    [recipient] = open_bytes(both).recipients
    assert party().matches(recipient)
    assert decrypt(both) == b"two recipients"


def test_triple_des_is_unsupported():
    error = failure(made("cms", "-encrypt", "-binary", "-des3", "-outform", "DER"))
    assert isinstance(error, UnsupportedEnvelope)
    assert str(error) == "The recording is encrypted with Triple DES; only AES-CBC and AES-GCM are supported."


def test_oaep_with_another_hash_is_named_unsupported_for_that_recipient():
    command = ["cms", "-encrypt", "-binary", "-aes-128-cbc", "-outform", "DER", "-recip", party().certificate_path]
    envelope = openssl(*command, "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha384", stdin=b"x")

    [recipient] = open_bytes(envelope).recipients
    assert recipient.transport == "unsupported:RSA-OAEP with sha384"


def test_detached_content_is_unsupported():
    recipients, algorithm, _ = cbc_parts(b"x")
    error = failure(enveloped(recipients, algorithm, b""))
    assert isinstance(error, UnsupportedEnvelope)


WRITERS = {
    "der": ["cms", "-encrypt", "-binary", "-aes-256-cbc", "-outform", "DER"],
    "ber-stream": ["cms", "-encrypt", "-binary", "-aes-128-cbc", "-stream", "-outform", "DER"],
    "gcm-der": ["cms", "-encrypt", "-binary", "-aes-256-gcm", "-outform", "DER"],
    "gcm-stream": ["cms", "-encrypt", "-binary", "-aes-128-gcm", "-stream", "-outform", "DER"],
    "pem": ["cms", "-encrypt", "-binary", "-aes-128-cbc", "-outform", "PEM"],
}


def cut_points(size):
    return sorted({*range(1, 700, 3), size // 2, *range(size - 40, size)})


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_truncated_recordings_are_damaged(writer):
    envelope = made(*WRITERS[writer])
    assert decrypt(envelope) == PAYLOAD

    begin_line = envelope.index(b"\n") + 1 if writer == "pem" else 0
    for cut in cut_points(len(envelope.rstrip())):  # PEM's final newline is not needed
        error = failure(envelope[:cut])
        # A PEM file cut inside its BEGIN line no longer says what it is.
        assert isinstance(error, NotAnEnvelope if cut < begin_line else DamagedRecording), (cut, error)


def test_truncated_smime_bodies_are_damaged():
    envelope = made("smime", "-encrypt", "-binary", "-aes128")
    body = envelope.index(b"\n\n") + 2

    for cut in [body, body + 1, body + 2, body + 3, body + 4, body + 65, body + 200, len(envelope) // 2]:
        assert isinstance(failure(envelope[:cut]), DamagedRecording), cut
    assert decrypt(envelope) == PAYLOAD


def test_a_truncated_message_says_where_the_file_ends():
    envelope = made(*WRITERS["der"])
    assert str(failure(envelope[:20_000])) == (
        "The recording is cut short: it ends after 20,000 bytes, in its encrypted content."
    )


def flip(data, position, mask=0x80):
    changed = bytearray(data)
    changed[position] ^= mask
    return bytes(changed)


def test_a_corrupted_last_block_has_bad_padding():
    whole_blocks = os.urandom(4096)  # the last block is all padding, so flipping the one before always breaks it
    envelope = openssl(*WRITERS["der"], party().certificate_path, stdin=whole_blocks)

    error = failure(flip(envelope, len(envelope) - 17))
    assert isinstance(error, DamagedRecording)
    assert str(error) == "The recording is damaged: its decrypted content has bad padding."


def test_ciphertext_that_is_not_whole_blocks_is_damaged():
    recipients, algorithm, ciphertext = cbc_parts(b"0123456789abcdef")
    error = failure(enveloped(recipients, algorithm, tlv(0x80, ciphertext[:-1])))
    assert str(error) == "The recording is damaged: its encrypted content is not a whole number of AES blocks."


# Bytes after the content: DER ends with the tag (04 10 + 16); streamed BER adds end-of-contents around it.
AFTER_CONTENT = {"gcm-der": 18, "gcm-stream": 2 + 2 + 18 + 6}
AFTER_TAG = {"gcm-der": 0, "gcm-stream": 6}


@pytest.mark.parametrize("writer", ["gcm-der", "gcm-stream"])
@pytest.mark.parametrize("where", ["first-content", "middle", "last-content", "tag"])
def test_corrupted_gcm_content_or_tag_fails_authentication(writer, where):
    envelope = made(*WRITERS[writer])
    position = {
        "first-content": 600,
        "middle": 20_000,
        "last-content": len(envelope) - AFTER_CONTENT[writer] - 1,
        "tag": len(envelope) - AFTER_TAG[writer] - 1,
    }[where]

    error = failure(flip(envelope, position, 0x01))
    assert isinstance(error, DamagedRecording)
    assert str(error) == "The recording is damaged or altered: its authentication tag does not match its content."


@pytest.mark.parametrize(
    ("writer", "junk"),
    [("der", b"\x00"), ("der", b"junk"), ("ber-stream", b"\x00\x00"), ("gcm-der", b"\x30\x00")],
)
def test_data_after_the_envelope_is_damage(writer, junk):
    error = failure(made(*WRITERS[writer]) + junk)
    assert isinstance(error, DamagedRecording)
    assert str(error) == "The recording is damaged: data follows the end of its envelope."


@pytest.mark.parametrize(
    ("writer", "junk"),
    [
        (["cms", "-encrypt", "-binary", "-aes-128-cbc", "-outform", "PEM"], b"junk\n"),
        (["cms", "-encrypt", "-binary", "-aes-128-cbc", "-outform", "PEM"], b"-----BEGIN PKCS7-----\n"),
        (["smime", "-encrypt", "-binary", "-aes128"], b"AAAA\n"),
        (["smime", "-encrypt", "-binary", "-aes128"], b"!!\n"),
    ],
    ids=["pem-text", "pem-second-block", "smime-base64", "smime-text"],
)
def test_text_after_a_base64_envelope_is_damage(writer, junk):
    envelope = made(*writer)
    assert decrypt(envelope + b"\r\n \n") == PAYLOAD  # whitespace is fine
    assert isinstance(failure(envelope + junk), DamagedRecording)


def test_lengths_beyond_the_element_holding_them_are_damage():
    recipients, algorithm, ciphertext = cbc_parts(b"x")
    huge_set = b"\x31\x85\x10\x00\x00\x00\x00" + recipients[2:]
    error = failure(enveloped(huge_set, algorithm, tlv(0x80, ciphertext)))
    assert isinstance(error, DamagedRecording)
    assert "more than the element holding it" in str(error)


def test_a_huge_header_element_is_refused_before_it_is_read():
    recipients, algorithm, ciphertext = cbc_parts(b"x")
    huge_set = b"\x31\x85\x10\x00\x00\x00\x00" + recipients[2:]
    body = indefinite(0x30, INTEGER_0, huge_set, tlv(0x30, OID_DATA + algorithm + tlv(0x80, ciphertext)))
    error = failure(indefinite(0x30, OID_ENVELOPED, indefinite(0xA0, body)))
    assert str(error) == "The recording's envelope header is larger than the 1,048,576 bytes allowed."


def test_a_nine_byte_length_is_damage():
    error = failure(b"\x30\x89" + b"\x01" * 9 + OID_ENVELOPED)
    assert isinstance(error, DamagedRecording)
    assert "a length field is too long" in str(error)


def test_an_outer_length_beyond_the_file_is_truncation():
    recipients, algorithm, ciphertext = cbc_parts(b"x")
    envelope = enveloped(recipients, algorithm, tlv(0x80, ciphertext))
    inner = envelope[envelope.index(OID_ENVELOPED) :]
    error = failure(b"\x30\x88" + b"\x7f" + b"\xff" * 7 + inner)
    assert isinstance(error, DamagedRecording)
    assert "cut short" in str(error)


def test_a_content_length_beyond_the_file_is_truncation():
    recipients, algorithm, ciphertext = cbc_parts(b"x" * 100)
    content = b"\xa0\x80\x04\x87" + (1 << 50).to_bytes(7, "big") + ciphertext
    body = indefinite(0x30, INTEGER_0, recipients, indefinite(0x30, OID_DATA, algorithm, content))
    error = failure(indefinite(0x30, OID_ENVELOPED, indefinite(0xA0, body)))
    assert str(error).startswith("The recording is cut short")


def test_deep_nesting_in_the_header_is_refused():
    recipients, algorithm, ciphertext = cbc_parts(b"x")
    deep = b"\x30\x80" * 10_000
    error = failure(enveloped(recipients, algorithm, tlv(0x80, ciphertext), before=b"\xa0\x80" + deep))
    assert isinstance(error, DamagedRecording)
    assert "nested too deeply" in str(error)

    nested = b"\x05\x00"
    for _ in range(200):
        nested = tlv(0x30, nested)
    error = failure(enveloped(tlv(0x31, nested), algorithm, tlv(0x80, ciphertext)))
    assert "nested too deeply" in str(error)


def test_deep_nesting_in_the_content_is_refused():
    recipients, algorithm, ciphertext = cbc_parts(b"x")
    content = b"\xa0\x80" + b"\x24\x80" * 1000 + tlv(0x04, ciphertext) + b"\x00\x00" * 1001
    error = failure(enveloped(recipients, algorithm, content))
    assert "nested too deeply" in str(error)


def test_content_segments_must_be_octet_strings():
    recipients, algorithm, ciphertext = cbc_parts(b"x")
    error = failure(enveloped(recipients, algorithm, indefinite(0xA0, tlv(0x0C, ciphertext))))
    assert "not an OCTET STRING" in str(error)


def test_a_malformed_recipient_is_damage():
    _, algorithm, ciphertext = cbc_parts(b"x")
    error = failure(enveloped(tlv(0x31, tlv(0x30, INTEGER_0 + tlv(0x04, b"key"))), algorithm, tlv(0x80, ciphertext)))
    assert str(error) == "The recording is damaged: its recipient information cannot be read."


def test_a_cbc_iv_of_the_wrong_size_is_damage():
    recipients, _, ciphertext = cbc_parts(b"x")
    algorithm = tlv(0x30, OID_AES256_CBC + tlv(0x04, b"short iv"))
    assert str(failure(enveloped(recipients, algorithm, tlv(0x80, ciphertext)))) == (
        "The recording is damaged: its AES-CBC IV is not 16 bytes long."
    )


def test_the_session_key_must_fit_and_is_used_once():
    envelope = open_bytes(made(*WRITERS["der"]))
    with pytest.raises(ValueError, match="32-byte session key"):
        envelope.decrypt(b"short", lambda _: None)
    key = party().unwrap(envelope.recipients[0])
    envelope.decrypt(key, lambda _: None)
    with pytest.raises(RuntimeError):
        envelope.decrypt(key, lambda _: None)


def test_a_wrong_session_key_fails_authentication():
    envelope = open_bytes(made(*WRITERS["gcm-der"]))
    with pytest.raises(DamagedRecording, match="authentication tag does not match"):
        envelope.decrypt(os.urandom(32), lambda _: None)


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_random_damage_is_always_a_recording_error(writer):
    """Bytes changed, dropped or inserted anywhere: the reader either decrypts or raises a RecordingError."""
    envelope = openssl(*WRITERS[writer], party().certificate_path, stdin=b"x" * 300)
    rng = random.Random(writer)
    for _ in range(300):
        damaged = bytearray(envelope)
        for _ in range(rng.randint(1, 3)):
            at, choice = rng.randrange(len(damaged)), rng.random()
            if choice < 0.6:
                damaged[at] = rng.randrange(256)
            elif choice < 0.8:
                del damaged[at : at + rng.randint(1, 20)]
            else:
                damaged[at:at] = rng.randbytes(rng.randint(1, 5))
        try:
            opened = open_bytes(bytes(damaged))
            opened.decrypt(os.urandom(opened.key_length), lambda _: None)
        except RecordingError as error:
            assert str(error).endswith(".")
