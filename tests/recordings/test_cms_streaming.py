"""The reader streams: memory stays flat however large the recording, any read size and any non-seekable stream
works, and the BER shapes no tool here writes (nested content segments, attributes around the content, GCM with
authenticated attributes) still decrypt."""

import hashlib
import io
import os
import random
import tracemalloc
import zipfile

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from recordings.cms import DamagedRecording, open_envelope

from .cms_kit import (
    OID_AES256_CBC,
    OID_AES256_GCM,
    OID_DATA,
    cbc_parts,
    decrypt,
    enveloped,
    failure,
    indefinite,
    openssl,
    party,
    recipient_info,
    tlv,
)

MiB = 1024 * 1024


def write_random_file(path, size):
    with path.open("wb") as file:
        for _ in range(size // MiB):
            file.write(os.urandom(MiB))
        file.write(os.urandom(size % MiB))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def peak_while_decrypting(path):
    """(peak bytes Python allocated while decrypting ``path``, SHA-256 of the plaintext, largest piece written)."""
    alpha = party()
    digest = hashlib.sha256()
    largest = 0

    def write(piece):
        nonlocal largest
        largest = max(largest, len(piece))
        digest.update(piece)

    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            envelope = open_envelope(stream)
            recipient = next(r for r in envelope.recipients if alpha.matches(r))
            envelope.decrypt(alpha.unwrap(recipient), write)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peak, digest.hexdigest(), largest


@pytest.mark.parametrize("form", [["-outform", "DER"], ["-stream", "-outform", "DER"], ["-stream"]])
def test_memory_does_not_grow_with_the_recording(tmp_path, form):
    peaks = {}
    for size in (1 * MiB, 50 * MiB):
        plain, sealed = tmp_path / f"{size}.wav", tmp_path / f"{size}.wav.bin"
        expected = write_random_file(plain, size)
        command = ["cms", "-encrypt", "-binary", "-aes-256-cbc", *form, "-in", plain, "-out", sealed]
        openssl(*command, party().certificate_path)
        plain.unlink()

        peak, digest, largest = peak_while_decrypting(sealed)
        assert digest == expected
        assert largest <= 2 * MiB
        peaks[size] = peak

    assert peaks[50 * MiB] < 8 * MiB
    assert peaks[50 * MiB] - peaks[1 * MiB] < 3 * MiB


class Trickle(io.RawIOBase):
    """A non-seekable stream that gives short reads of random sizes."""

    def __init__(self, data, most):
        self._data = memoryview(data)
        self._most = most
        self._random = random.Random(len(data))

    def readable(self):
        return True

    def read(self, size=-1):
        count = self._random.randint(1, self._most)
        piece, self._data = bytes(self._data[:count]), self._data[count:]
        return piece


WRITERS = {
    "der": ["cms", "-encrypt", "-binary", "-aes-256-cbc", "-outform", "DER"],
    "ber-stream": ["cms", "-encrypt", "-binary", "-aes-128-cbc", "-stream", "-outform", "DER"],
    "smime": ["smime", "-encrypt", "-binary", "-aes192"],
    "pem-stream": ["cms", "-encrypt", "-binary", "-aes-128-cbc", "-stream", "-outform", "PEM"],
    "gcm-stream": ["cms", "-encrypt", "-binary", "-aes-256-gcm", "-stream", "-outform", "DER"],
}


@pytest.mark.parametrize("most", [1, 7, 5000])
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_short_reads_from_a_non_seekable_stream(writer, most):
    content = os.urandom(20_000 if most == 1 else 300_000)
    envelope = openssl(*WRITERS[writer], party().certificate_path, stdin=content)

    assert decrypt(Trickle(envelope, most)) == content


def test_a_zip_member_decrypts_as_it_is_read():
    content = os.urandom(2 * MiB + 3)
    envelope = openssl(*WRITERS["ber-stream"], party().certificate_path, stdin=content)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as writer:
        writer.writestr("calls/2024/one.wav.bin", envelope)

    with zipfile.ZipFile(archive) as reader, reader.open("calls/2024/one.wav.bin") as member:
        assert decrypt(member) == content


def test_nested_and_empty_content_segments_decrypt():
    plaintext = os.urandom(5000)
    recipients, algorithm, ciphertext = cbc_parts(plaintext)
    a, b, c = ciphertext[:1000], ciphertext[1000:1003], ciphertext[1003:]
    content = indefinite(
        0xA0,
        tlv(0x04, a),
        tlv(0x04, b""),
        tlv(0x24, tlv(0x04, b) + indefinite(0x24, tlv(0x04, c[:7]), tlv(0x24, b""))),
        indefinite(0x24, tlv(0x04, c[7:])),
    )
    assert decrypt(enveloped(recipients, algorithm, content)) == plaintext


def test_originator_info_and_unprotected_attributes_are_passed_over():
    plaintext = b"call recording"
    recipients, algorithm, ciphertext = cbc_parts(plaintext)
    attribute = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010903")) + tlv(0x31, OID_DATA))
    envelope = enveloped(
        recipients, algorithm, tlv(0x80, ciphertext), before=tlv(0xA0, b""), after=tlv(0xA1, attribute)
    )
    assert decrypt(envelope) == plaintext
    error = failure(enveloped(recipients, algorithm, tlv(0x80, ciphertext), after=tlv(0xA2, attribute)))
    assert isinstance(error, DamagedRecording)


CONTENT_TYPE_ATTRIBUTE = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010903")) + tlv(0x31, OID_DATA))


def gcm_envelope(plaintext, *, tag_length=16, auth_attributes=b"", unauth_attributes=b"", ber=False):
    """AuthEnvelopedData with AES-256-GCM; authenticated attributes are the AAD, as a SET OF (RFC 5083)."""
    key, nonce = os.urandom(32), os.urandom(12)
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    if auth_attributes:
        encryptor.authenticate_additional_data(tlv(0x31, auth_attributes))
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    icv_length = b"" if tag_length == 12 else tlv(0x02, bytes([tag_length]))
    algorithm = tlv(0x30, OID_AES256_GCM + tlv(0x30, tlv(0x04, nonce) + icv_length))
    wrap = indefinite if ber else tlv
    after = (wrap(0xA1, auth_attributes) if auth_attributes else b"") + tlv(0x04, encryptor.tag[:tag_length])
    after += tlv(0xA2, unauth_attributes) if unauth_attributes else b""
    recipients = tlv(0x31, recipient_info(party(), key))
    return enveloped(recipients, algorithm, tlv(0x80, ciphertext), after=after, auth=True)


@pytest.mark.parametrize("size", [0, 1, 16, 1000, 70_001])
@pytest.mark.parametrize("tag_length", [12, 16])
def test_gcm_with_authenticated_attributes_decrypts(size, tag_length):
    plaintext = os.urandom(size)
    attributes = CONTENT_TYPE_ATTRIBUTE + tlv(0x30, tlv(0x06, b"\x2a\x03") + tlv(0x31, tlv(0x04, os.urandom(40))))
    envelope = gcm_envelope(plaintext, tag_length=tag_length, auth_attributes=attributes)

    assert decrypt(envelope) == plaintext
    altered = envelope.replace(attributes, attributes[:-1] + bytes([attributes[-1] ^ 1]))
    assert str(failure(altered)) == (
        "The recording is damaged or altered: its authentication tag does not match its content."
    )


def test_gcm_with_unauthenticated_attributes_decrypts():
    plaintext = os.urandom(100)
    envelope = gcm_envelope(plaintext, tag_length=12, unauth_attributes=CONTENT_TYPE_ATTRIBUTE)
    assert decrypt(envelope) == plaintext


def indefinite_copy(element):
    """The same constructed element with an indefinite length."""
    header_size = {0x81: 3, 0x82: 4, 0x83: 5}.get(element[1], 2)
    return indefinite(element[0], element[header_size:])


def test_indefinite_lengths_in_the_header_decrypt():
    plaintext = os.urandom(1024)
    key, iv = os.urandom(32), os.urandom(16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(plaintext + bytes([16]) * 16) + encryptor.finalize()
    recipient = indefinite_copy(recipient_info(party(), key))
    algorithm = indefinite_copy(tlv(0x30, OID_AES256_CBC + tlv(0x04, iv)))

    for recipients in (tlv(0x31, recipient), indefinite(0x31, recipient)):
        assert decrypt(enveloped(recipients, algorithm, tlv(0x80, ciphertext))) == plaintext


def test_gcm_with_indefinite_length_authenticated_attributes_decrypts():
    plaintext = os.urandom(100)
    envelope = gcm_envelope(plaintext, auth_attributes=CONTENT_TYPE_ATTRIBUTE, ber=True)
    assert b"\xa1\x80" + CONTENT_TYPE_ATTRIBUTE + b"\x00\x00" in envelope
    assert decrypt(envelope) == plaintext
