"""How the envelope is wrapped: binary DER/BER, PEM (``-----BEGIN PKCS7-----`` or ``CMS``), or S/MIME (MIME headers
then a base64 body, as ``openssl smime -encrypt`` and ``openssl cms -encrypt`` write without ``-outform DER``).
Base64 is decoded as it is read, a chunk at a time."""

import binascii
import re
from typing import Protocol

from .ber import CHUNK, ByteSource
from .errors import DamagedRecording, NotAnEnvelope, UnsupportedEnvelope

PEM_LABELS = (b"PKCS7", b"CMS")
MAX_MIME_HEADERS = 64 * 1024
MAX_TRAILER = 64 * 1024  # whitespace allowed after a PEM END line
_WHITESPACE = b" \t\r\n\v\f"
_PEM_BEGIN = re.compile(rb"-----BEGIN ([ -~]{1,64}?)-----[ \t]*\r?\n")
_MIME_HEADER = re.compile(rb"[A-Za-z0-9-]{1,76}:")
_NOT_AN_ENVELOPE = "The file is not a PKCS#7 envelope (DER, PEM or S/MIME)."


class ByteStream(Protocol):
    """What the reader needs of a file: read(n). Files, BinaryIO, zipfile members and raw streams all fit."""

    def read(self, size: int = ..., /) -> bytes | None: ...


def _read_some(stream: ByteStream, size: int = CHUNK) -> bytes:
    """Up to ``size`` bytes; b"" only at the end (some streams return short reads)."""
    return stream.read(size) or b""


def open_source(stream: ByteStream) -> tuple[ByteSource, bytes]:
    """A reader of the envelope's binary encoding, and the bytes it already read."""
    first = _read_some(stream)
    if not first:
        raise NotAnEnvelope("The file is empty.")
    if first[0] == 0x30:  # a SEQUENCE: DER or BER
        return (lambda n: _read_some(stream, n)), first
    start = len(first) - len(first.lstrip(_WHITESPACE))
    text = first[start:]
    while len(text) < 4096:  # enough to recognise the armor even from a stream giving short reads
        more = _read_some(stream)
        if not more:
            break
        text += more
    if text.startswith(b"-----BEGIN "):
        return _pem(stream, text)
    if _MIME_HEADER.match(text):
        return _smime(stream, text)
    raise NotAnEnvelope(_NOT_AN_ENVELOPE)


def _pem(stream: ByteStream, text: bytes) -> tuple[ByteSource, bytes]:
    begin = _PEM_BEGIN.match(text)
    if begin is None:
        raise NotAnEnvelope(_NOT_AN_ENVELOPE)
    label = begin.group(1)
    if label not in PEM_LABELS:
        raise NotAnEnvelope(f"The file is a PEM {label.decode('ascii')}, not a PKCS#7 envelope.")
    decoder = Base64Body(stream, text[begin.end() :], end_line=b"-----END " + label + b"-----")
    return decoder.read, decoder.read(CHUNK)


def _smime(stream: ByteStream, text: bytes) -> tuple[ByteSource, bytes]:
    while True:
        blank = re.search(rb"\r?\n\r?\n", text)
        if blank is not None or len(text) > MAX_MIME_HEADERS:
            break
        more = _read_some(stream)
        if not more:
            break
        text += more
    if blank is None or blank.start() > MAX_MIME_HEADERS:
        raise NotAnEnvelope(_NOT_AN_ENVELOPE)
    headers = _mime_headers(text[: blank.start()])
    content_type = headers.get("content-type", "")
    if "pkcs7-signature" in content_type or content_type.startswith("multipart/signed"):
        raise NotAnEnvelope("The file is a signed S/MIME message, not an encrypted one.")
    if "pkcs7-mime" not in content_type:
        raise NotAnEnvelope(_NOT_AN_ENVELOPE)
    encoding = headers.get("content-transfer-encoding", "")
    if encoding != "base64":
        raise UnsupportedEnvelope("The S/MIME message is not base64-encoded, which is the only encoding supported.")
    decoder = Base64Body(stream, text[blank.end() :], end_line=None)
    return decoder.read, decoder.read(CHUNK)


def _mime_headers(block: bytes) -> dict[str, str]:
    """Header names (lower case) and values (lower case, unfolded)."""
    headers: dict[str, str] = {}
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", block)
    for line in unfolded.splitlines():
        name, colon, value = line.partition(b":")
        if not colon:
            raise NotAnEnvelope(_NOT_AN_ENVELOPE)
        headers[name.strip().decode("ascii", "replace").lower()] = value.strip().decode("ascii", "replace").lower()
    return headers


class Base64Body:
    """Decodes a base64 body as it is read: whitespace is skipped, anything else that is not base64 is damage.
    A PEM body ends at its END line, after which only whitespace may follow; an S/MIME body ends with the file."""

    def __init__(self, stream: ByteStream, first: bytes, *, end_line: bytes | None) -> None:
        self._stream = stream
        self._pending = first  # raw text read but not yet decoded
        self._carry = b""  # base64 characters short of a whole quantum
        self._end_line = end_line
        self._done = False
        self._padded = False  # a quantum ended with "=": no more data may follow

    def read(self, size: int) -> bytes:
        while not self._done:
            raw = self._pending or _read_some(self._stream, size)
            self._pending = b""
            if not raw:
                self._finish()
                break
            if self._end_line is not None:
                dash = raw.find(b"-")
                if dash >= 0:
                    self._check_pem_end(raw[dash:])
                    raw = raw[:dash]
            decoded = self._decode(raw)
            if self._done and self._carry:
                raise DamagedRecording("The recording's base64 text is cut short.")
            if decoded:
                return decoded
        return b""

    def _finish(self) -> None:
        self._done = True
        if self._carry:
            raise DamagedRecording("The recording's base64 text is cut short.")
        if self._end_line is not None:
            raise DamagedRecording("The recording is cut short: its PEM END line is missing.")

    def _check_pem_end(self, tail: bytes) -> None:
        assert self._end_line is not None
        while more := _read_some(self._stream):
            tail += more
            if len(tail) > len(self._end_line) + MAX_TRAILER:
                raise DamagedRecording("The recording's PEM text is damaged: it holds data after its END line.")
        text = tail.rstrip(_WHITESPACE)
        if len(text) < len(self._end_line) and self._end_line.startswith(text):
            raise DamagedRecording("The recording is cut short: its PEM END line is incomplete.")
        if not tail.startswith(self._end_line) or tail[len(self._end_line) :].strip(_WHITESPACE):
            raise DamagedRecording("The recording's PEM text is damaged: it holds data after its base64 body.")
        self._end_line = None
        self._done = True

    def _decode(self, raw: bytes) -> bytes:
        text = raw.translate(None, _WHITESPACE)
        if self._carry:
            text = self._carry + text
        whole = len(text) - len(text) % 4
        self._carry = text[whole:]
        if not whole:
            return b""
        if self._padded:
            raise DamagedRecording("The recording's base64 text is damaged: data follows its end.")
        try:
            decoded = binascii.a2b_base64(text[:whole] if self._carry else text, strict_mode=True)
        except binascii.Error:
            raise DamagedRecording("The recording's base64 text holds characters that are not base64.") from None
        self._padded = text[whole - 1] == 0x3D  # "="
        return decoded
