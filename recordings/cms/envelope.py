"""Opening an envelope: read the header of a ContentInfo holding EnvelopedData (RFC 5652) or AuthEnvelopedData
(RFC 5083) up to its encrypted content, then stream the content through AES and check the rest of the structure."""

from collections.abc import Iterator

from .armor import ByteStream, open_source
from .ber import CONTEXT, INTEGER, OCTET_STRING, OID, SEQUENCE, SET, UNIVERSAL, BerReader, Header
from .content import CbcDecryption, ContentCipher, GcmDecryption, Write, batched, content_cipher
from .errors import DamagedRecording, NotAnEnvelope, UnsupportedEnvelope
from .recipients import Recipient, parse_recipients

ENVELOPED_DATA = bytes.fromhex("2a864886f70d010703")  # 1.2.840.113549.1.7.3
AUTH_ENVELOPED_DATA = bytes.fromhex("2a864886f70d0109100117")  # 1.2.840.113549.1.9.16.1.23
_OTHER_TYPES = {
    bytes.fromhex("2a864886f70d010701"): "PKCS#7 data",
    bytes.fromhex("2a864886f70d010702"): "PKCS#7 signed data",
    bytes.fromhex("2a864886f70d010704"): "PKCS#7 signed and enveloped data",
    bytes.fromhex("2a864886f70d010705"): "PKCS#7 digested data",
    bytes.fromhex("2a864886f70d010706"): "PKCS#7 encrypted data (with a password)",
    bytes.fromhex("2a864886f70d0109100102"): "CMS authenticated data",
}
MAX_OID = 64
MAX_AAD = 64 * 1024


class Envelope:
    """An envelope whose header has been read; ``decrypt`` streams the rest of it."""

    recipients: tuple[Recipient, ...]  # key transport recipients only
    cipher: str  # "aes-128-cbc" ... "aes-256-gcm"
    key_length: int  # bytes the session key must have

    def __init__(
        self, reader: BerReader, recipients: tuple[Recipient, ...], cipher: ContentCipher, content: Header, budget: int
    ) -> None:
        self.recipients = recipients
        self.cipher = cipher.name
        self.key_length = cipher.key_length
        self._reader = reader
        self._content_cipher = cipher
        self._content = content
        self._budget = budget
        self._used = False
        self._plaintext_size = 0

    def decrypt(self, session_key: bytes, write: Write) -> int:
        """Stream the rest of the envelope through AES, calling write() with plaintext chunks, each valid only during
        that call (copy it to keep it); padding (CBC) or the tag (GCM) is checked at the end and DamagedRecording
        raised then (the caller discards what it wrote).
        Returns the plaintext size. Raises ValueError if len(session_key) != key_length. Call at most once."""
        for _ in self._steps(session_key, write):
            pass
        return self._plaintext_size

    def plaintext(self, session_key: bytes) -> Iterator[bytes]:
        """The same as ``decrypt``, pulled: plaintext chunks as they are produced, for a response that streams."""
        pending: list[bytes] = []

        def keep(chunk: bytes | memoryview) -> None:
            pending.append(bytes(chunk))  # a view is reused by the next piece: the consumer may hold on longer

        for _ in self._steps(session_key, keep):
            yield from pending
            pending.clear()
        yield from pending

    def _steps(self, session_key: bytes, write: Write) -> Iterator[None]:
        """Decrypt, pausing after each piece of content: ``decrypt`` runs it through, ``plaintext`` drains it."""
        if len(session_key) != self.key_length:
            raise ValueError(f"{self.cipher} needs a {self.key_length}-byte session key")
        if self._used:
            raise RuntimeError("an envelope can be decrypted only once")
        self._used = True
        cipher, reader = self._content_cipher, self._reader
        reader.section = "in its encrypted content"
        decryption: CbcDecryption | GcmDecryption
        if cipher.authenticated:
            decryption = GcmDecryption(session_key, cipher.iv, cipher.tag_length, write)
        else:
            decryption = CbcDecryption(session_key, cipher.iv, write)
        del session_key
        for piece in batched(reader.octets(self._content)):
            decryption.update(piece)
            yield
        reader.section = "after its encrypted content"
        reader.limit = reader.offset + self._budget
        reader.limit_message = "The recording is damaged: the attributes after its content are too large."
        reader.leave("the encrypted content information")
        if isinstance(decryption, GcmDecryption):
            tag, aad = self._read_auth_trailer()
            self._close()
            self._plaintext_size = decryption.finish(tag, aad)
            return
        if not reader.at_end():
            header = reader.header()
            if not header.is_(CONTEXT, 1):
                raise reader.damaged("the envelope holds unexpected data after its encrypted content")
            reader.element(header)  # unprotectedAttrs: not needed to decrypt
        self._close()
        self._plaintext_size = decryption.finish()

    def _read_auth_trailer(self) -> tuple[bytes, bytes]:
        """authAttrs [1] (the AAD, as a DER SET OF) if present, then the mac, then unauthAttrs [2] if present."""
        reader = self._reader
        aad = b""
        header = reader.header()
        if header.is_(CONTEXT, 1) and header.constructed:
            attributes = reader.element(header)
            if len(attributes) > MAX_AAD:
                raise UnsupportedEnvelope("The recording's authenticated attributes are larger than supported.")
            aad = b"\x31" + attributes[1:]  # RFC 5083: the AAD is the attributes' DER with the SET OF tag
            header = reader.header()
        if not header.is_(UNIVERSAL, OCTET_STRING) or header.constructed:
            raise reader.damaged("the authentication tag is missing")
        assert header.length is not None
        if header.length != self._content_cipher.tag_length:
            raise reader.damaged("the authentication tag has the wrong length")
        tag = reader.take(header.length)
        if not reader.at_end():
            header = reader.header()
            if not header.is_(CONTEXT, 2):
                raise reader.damaged("the envelope holds unexpected data after its authentication tag")
            reader.element(header)
        return tag, aad

    def _close(self) -> None:
        """Leave the (Auth)EnvelopedData, the [0] around it and the ContentInfo; nothing may follow them."""
        reader = self._reader
        reader.leave("the envelope")
        reader.leave("the envelope")
        reader.leave("the envelope")
        if not reader.at_eof():
            raise DamagedRecording("The recording is damaged: data follows the end of its envelope.")


def open_envelope(stream: ByteStream, *, max_header_bytes: int = 1 << 20) -> Envelope:
    """Read only the envelope's header from `stream` (a binary file object opened for reading, maybe non-seekable,
    e.g. a zipfile member). Detects DER/BER, PEM (-----BEGIN PKCS7----- / CMS) and S/MIME (MIME headers +
    base64 body, as `openssl smime -encrypt` / `openssl cms -encrypt` write without -outform DER)."""
    read, initial = open_source(stream)
    reader = BerReader(read, initial)
    outer = reader.header()
    if not (outer.is_(UNIVERSAL, SEQUENCE) and outer.constructed):
        raise NotAnEnvelope("The file is not a PKCS#7 envelope (DER, PEM or S/MIME).")
    reader.enter(outer)
    content_type = reader.header()
    if not content_type.is_(UNIVERSAL, OID) or not 0 < (content_type.length or 0) <= MAX_OID:
        raise NotAnEnvelope("The file is not a PKCS#7 envelope (DER, PEM or S/MIME).")
    oid = reader.take(content_type.length or 0)
    if oid not in (ENVELOPED_DATA, AUTH_ENVELOPED_DATA):
        kind = _OTHER_TYPES.get(oid)
        if kind:
            raise NotAnEnvelope(f"The file is {kind}, not an encrypted PKCS#7 envelope.")
        raise NotAnEnvelope("The file is not a PKCS#7 envelope (DER, PEM or S/MIME).")
    authenticated = oid == AUTH_ENVELOPED_DATA
    reader.limit = max_header_bytes
    reader.limit_message = f"The recording's envelope header is larger than the {max_header_bytes:,} bytes allowed."
    _enter(reader, CONTEXT, 0, "the envelope's content")
    _enter(reader, UNIVERSAL, SEQUENCE, "the envelope")
    version = reader.expect(UNIVERSAL, INTEGER, "the envelope's version")
    if version.constructed or not 0 < (version.length or 0) <= 4:
        raise reader.damaged("the envelope's version is malformed")
    reader.take(version.length or 0)
    header = reader.header()
    if header.is_(CONTEXT, 0) and header.constructed:  # originatorInfo: certificates not needed to decrypt
        reader.element(header)
        header = reader.header()
    if not (header.is_(UNIVERSAL, SET) and header.constructed):
        raise reader.damaged("the recipient information is missing")
    recipients = parse_recipients(reader.element(header))
    _enter(reader, UNIVERSAL, SEQUENCE, "the encrypted content information")
    reader.element(reader.expect(UNIVERSAL, OID, "the content type"))
    algorithm = reader.expect(UNIVERSAL, SEQUENCE, "the content encryption algorithm")
    cipher = content_cipher(reader.element(algorithm))
    if cipher.authenticated != authenticated:
        raise UnsupportedEnvelope(
            f"The recording's {'authenticated ' if authenticated else ''}envelope uses {cipher.name}, "
            "which does not fit its kind of envelope."
        )
    if reader.at_end():
        raise UnsupportedEnvelope("The recording holds no encrypted content: it is kept apart, which is not supported.")
    reader.limit = None  # the content's length is the recording's
    content = reader.header()
    if not content.is_(CONTEXT, 0):
        raise reader.damaged("the encrypted content is missing")
    if reader.offset > max_header_bytes:
        raise DamagedRecording(reader.limit_message)
    return Envelope(reader, recipients, cipher, content, max_header_bytes)


def _enter(reader: BerReader, tag_class: int, number: int, what: str) -> None:
    header = reader.expect(tag_class, number, what)
    if not header.constructed:
        raise reader.damaged(f"{what} is malformed")
    reader.enter(header)
