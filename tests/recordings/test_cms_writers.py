"""Every writer the recording platform and the customers use gives back the original bytes: openssl smime and
openssl cms (DER, S/MIME, PEM; streamed BER; subject key identifiers; RSA-OAEP; AES-GCM; several recipients) and
cryptography's PKCS7EnvelopeBuilder."""

import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7

from .cms_kit import decrypt, open_bytes, openssl, party

SIZES = [0, 1, 15, 16, 17, 3 * 1024 * 1024 + 5]
_CONTENT: dict[int, bytes] = {}


def content(size: int) -> bytes:
    if size not in _CONTENT:
        _CONTENT[size] = os.urandom(size)
    return _CONTENT[size]


def smime(cipher: str, *outform: str) -> list[str]:
    return ["smime", "-encrypt", "-binary", cipher, *outform]


def cms(cipher: str, *options: str) -> list[str]:
    return ["cms", "-encrypt", "-binary", cipher, *options]


OPENSSL_WRITERS = {
    "smime-aes128-der": (smime("-aes128", "-outform", "DER"), "aes-128-cbc"),
    "smime-aes192-der": (smime("-aes192", "-outform", "DER"), "aes-192-cbc"),
    "smime-aes256-der": (smime("-aes256", "-outform", "DER"), "aes-256-cbc"),
    "smime-aes128-smime": (smime("-aes128"), "aes-128-cbc"),
    "smime-aes128-smime-crlf": (smime("-aes128", "-crlfeol"), "aes-128-cbc"),
    "smime-aes256-smime": (smime("-aes256"), "aes-256-cbc"),
    "smime-aes192-pem": (smime("-aes192", "-outform", "PEM"), "aes-192-cbc"),
    "cms-aes128-der": (cms("-aes-128-cbc", "-outform", "DER"), "aes-128-cbc"),
    "cms-aes192-smime": (cms("-aes-192-cbc"), "aes-192-cbc"),
    "cms-aes256-pem": (cms("-aes-256-cbc", "-outform", "PEM"), "aes-256-cbc"),
    "cms-stream-der": (cms("-aes-256-cbc", "-stream", "-outform", "DER"), "aes-256-cbc"),
    "cms-stream-smime": (cms("-aes-128-cbc", "-stream"), "aes-128-cbc"),
    "cms-stream-pem": (cms("-aes-192-cbc", "-stream", "-outform", "PEM"), "aes-192-cbc"),
    "cms-keyid-der": (cms("-aes-256-cbc", "-keyid", "-outform", "DER"), "aes-256-cbc"),
    "cms-keyid-stream-smime": (cms("-aes-128-cbc", "-keyid", "-stream"), "aes-128-cbc"),
    "cms-gcm128-der": (cms("-aes-128-gcm", "-outform", "DER"), "aes-128-gcm"),
    "cms-gcm256-der": (cms("-aes-256-gcm", "-outform", "DER"), "aes-256-gcm"),
    "cms-gcm256-stream-der": (cms("-aes-256-gcm", "-stream", "-outform", "DER"), "aes-256-gcm"),
    "cms-gcm128-smime": (cms("-aes-128-gcm"), "aes-128-gcm"),
    "cms-gcm256-stream-pem": (cms("-aes-256-gcm", "-stream", "-outform", "PEM"), "aes-256-gcm"),
}
OAEP = {
    "oaep-sha1": ["-keyopt", "rsa_padding_mode:oaep"],
    "oaep-sha256": ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"],
}


# openssl 3.0 fails to write an empty AES-GCM content in streaming mode ("Error writing CMS output").
OPENSSL_CASES = [
    (writer, size)
    for writer in sorted(OPENSSL_WRITERS)
    for size in SIZES
    if size or not ("gcm" in writer and "stream" in writer)
]


@pytest.mark.parametrize(("writer", "size"), OPENSSL_CASES)
def test_openssl_envelopes_decrypt_to_the_original_bytes(writer, size):
    command, cipher = OPENSSL_WRITERS[writer]
    envelope = openssl(*command, party().certificate_path, stdin=content(size))

    assert open_bytes(envelope).cipher == cipher
    assert decrypt(envelope) == content(size)


@pytest.mark.parametrize("size", [0, 17, 3 * 1024 * 1024 + 5])
@pytest.mark.parametrize("transport", sorted(OAEP))
@pytest.mark.parametrize("form", [["-outform", "DER"], ["-stream"], ["-outform", "PEM", "-keyid"]])
def test_rsa_oaep_envelopes_decrypt(transport, form, size):
    command = [*cms("-aes-256-cbc", *form), "-recip", party().certificate_path, *OAEP[transport]]
    envelope = openssl(*command, stdin=content(size))

    [recipient] = open_bytes(envelope).recipients
    assert recipient.transport == transport
    assert decrypt(envelope) == content(size)


def test_oaep_with_gcm_decrypts():
    command = [*cms("-aes-256-gcm", "-stream"), "-recip", party().certificate_path, *OAEP["oaep-sha256"]]
    envelope = openssl(*command, stdin=content(17))

    assert decrypt(envelope) == content(17)


@pytest.mark.parametrize(
    "command",
    [smime("-aes256", "-outform", "DER"), cms("-aes-128-cbc", "-stream"), cms("-aes-256-gcm", "-outform", "PEM")],
    ids=["smime-der", "cms-stream-smime", "cms-gcm-pem"],
)
def test_each_of_several_recipients_opens_the_envelope(command):
    alpha, beta = party("alpha"), party("beta")
    envelope = openssl(*command, alpha.certificate_path, beta.certificate_path, stdin=content(17))

    recipients = open_bytes(envelope).recipients
    assert len(recipients) == 2
    assert sorted((alpha.matches(r), beta.matches(r)) for r in recipients) == [(False, True), (True, False)]
    assert decrypt(envelope, alpha) == content(17)
    assert decrypt(envelope, beta) == content(17)


def test_recipients_named_by_issuer_and_serial_say_so():
    alpha = party()
    envelope = openssl(*smime("-aes128", "-outform", "DER"), alpha.certificate_path, stdin=b"x")

    [recipient] = open_bytes(envelope).recipients
    assert recipient.issuer == alpha.certificate.issuer.public_bytes()
    assert recipient.serial == alpha.certificate.serial_number
    assert recipient.subject_key_id is None
    assert recipient.transport == "pkcs1v15"
    assert recipient.describe() == (
        f"issuer CN=Genesys Recording alpha,O=Genesys,C=US, serial 0x{alpha.certificate.serial_number:X}"
    )


def test_recipients_named_by_subject_key_identifier_say_so():
    alpha = party()
    envelope = openssl(*cms("-aes-128-cbc", "-keyid", "-outform", "DER"), alpha.certificate_path, stdin=b"x")

    [recipient] = open_bytes(envelope).recipients
    assert recipient.issuer is None and recipient.serial is None
    assert alpha.matches(recipient)
    identifier = alpha.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert recipient.describe() == "subject key identifier " + ":".join(f"{octet:02X}" for octet in identifier)


ENCODINGS = [serialization.Encoding.DER, serialization.Encoding.PEM, serialization.Encoding.SMIME]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("algorithm", [algorithms.AES128, algorithms.AES256], ids=["aes128", "aes256"])
@pytest.mark.parametrize("encoding", ENCODINGS, ids=["der", "pem", "smime"])
def test_cryptography_envelopes_decrypt_to_the_original_bytes(encoding, algorithm, size):
    builder = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(content(size))
        .add_recipient(party("alpha").certificate)
        .add_recipient(party("beta").certificate)
        .set_content_encryption_algorithm(algorithm)
    )
    envelope = builder.encrypt(encoding, [pkcs7.PKCS7Options.Binary])

    opened = open_bytes(envelope)
    assert (opened.cipher, opened.key_length) == (
        ("aes-128-cbc", 16) if algorithm is algorithms.AES128 else ("aes-256-cbc", 32)
    )
    assert decrypt(envelope, party("alpha")) == content(size)
    assert decrypt(envelope, party("beta")) == content(size)
