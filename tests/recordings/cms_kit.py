"""Keys, certificates and envelopes for the CMS reader's tests, made at test time: RSA keys with cryptography (cached
for the process, as 2048-bit keys are slow to make), envelopes with the real openssl commands, cryptography's
PKCS7EnvelopeBuilder, or by hand for shapes no tool writes."""

import datetime
import io
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms as asn1_cms  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

from recordings.cms import Envelope, Recipient, RecordingError, open_envelope
from recordings.cms.armor import ByteStream

_FILES = tempfile.TemporaryDirectory(prefix="cms-kit-")  # removed when the test process ends


@dataclass(frozen=True)
class Party:
    """A recipient: an RSA key and its certificate, also as PEM files for openssl."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    certificate_path: Path
    key_path: Path

    def matches(self, recipient: Recipient) -> bool:
        if recipient.subject_key_id is not None:
            identifier = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            return recipient.subject_key_id == identifier.value.digest
        return (
            recipient.issuer == self.certificate.issuer.public_bytes()
            and recipient.serial == self.certificate.serial_number
        )

    def unwrap(self, recipient: Recipient) -> bytes:
        if recipient.transport == "pkcs1v15":
            return self.key.decrypt(recipient.encrypted_key, padding.PKCS1v15())
        digest = {"oaep-sha1": hashes.SHA1(), "oaep-sha256": hashes.SHA256()}[recipient.transport]
        return self.key.decrypt(recipient.encrypted_key, padding.OAEP(padding.MGF1(digest), digest, None))


_PARTIES: dict[str, Party] = {}


def party(name: str = "alpha") -> Party:
    if name not in _PARTIES:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Genesys"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"Genesys Recording {name}"),
            ]
        )
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        directory = Path(_FILES.name)
        certificate_path = directory / f"{name}.crt"
        certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path = directory / f"{name}.key"
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        _PARTIES[name] = Party(key, certificate, certificate_path, key_path)
    return _PARTIES[name]


def openssl(*args: object, stdin: bytes = b"") -> bytes:
    """Run openssl with ``stdin`` as its input; its output."""
    done = subprocess.run(["openssl", *map(str, args)], input=stdin, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def open_bytes(data: bytes) -> Envelope:
    return open_envelope(io.BytesIO(data))


def decrypt(data: bytes | ByteStream, who: Party | None = None) -> bytes:
    """The plaintext, as the portal would get it: open, pick this party's recipient, unwrap, decrypt."""
    who = who or party()
    envelope = open_envelope(io.BytesIO(data) if isinstance(data, bytes) else data)
    recipient = next(r for r in envelope.recipients if who.matches(r))
    pieces: list[bytes] = []
    size = envelope.decrypt(who.unwrap(recipient), lambda chunk: pieces.append(bytes(chunk)))
    plaintext = b"".join(pieces)
    assert size == len(plaintext)
    return plaintext


def failure(data: bytes, who: Party | None = None) -> RecordingError:
    """The RecordingError that decrypting ``data`` raises (any other exception fails the test)."""
    try:
        decrypt(data, who)
    except RecordingError as error:
        message = str(error)
        assert message.endswith(".") and message[0].isupper() and "\n" not in message, message
        return error
    raise AssertionError("decrypted without an error")


# Hand-built DER/BER, for shapes the tools never write.


def tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def indefinite(tag: int, *parts: bytes) -> bytes:
    return bytes([tag, 0x80]) + b"".join(parts) + b"\x00\x00"


OID_DATA = tlv(0x06, bytes.fromhex("2a864886f70d010701"))
OID_ENVELOPED = tlv(0x06, bytes.fromhex("2a864886f70d010703"))
OID_AUTH_ENVELOPED = tlv(0x06, bytes.fromhex("2a864886f70d0109100117"))
OID_AES256_CBC = tlv(0x06, bytes.fromhex("60864801650304012a"))  # 2.16.840.1.101.3.4.1.42
OID_AES256_GCM = tlv(0x06, bytes.fromhex("60864801650304012e"))  # 2.16.840.1.101.3.4.1.46


def recipient_info(who: Party, session_key: bytes) -> bytes:
    """A KeyTransRecipientInfo (issuer and serial, PKCS#1 v1.5) wrapping ``session_key`` for ``who``."""
    issuer = asn1_x509.Name.load(who.certificate.issuer.public_bytes())
    info = asn1_cms.RecipientInfo(
        name="ktri",
        value={
            "version": "v0",
            "rid": asn1_cms.RecipientIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": issuer, "serial_number": who.certificate.serial_number},
            ),
            "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15"},
            "encrypted_key": who.key.public_key().encrypt(session_key, padding.PKCS1v15()),
        },
    )
    return info.dump()


def content_info(content_type: bytes, body: bytes, *, indefinite_length: bool = False) -> bytes:
    """ContentInfo { contentType, [0] EXPLICIT body }."""
    if indefinite_length:
        return indefinite(0x30, content_type, indefinite(0xA0, body))
    return tlv(0x30, content_type + tlv(0xA0, body))


INTEGER_0 = tlv(0x02, b"\x00")


def enveloped(
    recipients: bytes, algorithm: bytes, content: bytes, *, after: bytes = b"", before: bytes = b"", auth: bool = False
) -> bytes:
    """A ContentInfo holding (Auth)EnvelopedData: ``before`` goes between the version and the recipients
    (originatorInfo), ``after`` after the encrypted content information (attributes, the GCM tag)."""
    encrypted_content_info = tlv(0x30, OID_DATA + algorithm + content)
    body = tlv(0x30, INTEGER_0 + before + recipients + encrypted_content_info + after)
    return content_info(OID_AUTH_ENVELOPED if auth else OID_ENVELOPED, body)


def cbc_parts(plaintext: bytes, who: Party | None = None, *, pad: bool = True) -> tuple[bytes, bytes, bytes]:
    """(recipients SET, AES-256-CBC AlgorithmIdentifier, ciphertext) for ``plaintext``."""
    key, iv = os.urandom(32), os.urandom(16)
    padded = plaintext + bytes([16 - len(plaintext) % 16]) * (16 - len(plaintext) % 16) if pad else plaintext
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    recipients = tlv(0x31, recipient_info(who or party(), key))
    return recipients, tlv(0x30, OID_AES256_CBC + tlv(0x04, iv)), ciphertext
