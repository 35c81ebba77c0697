"""A streaming BER reader: headers, small elements copied whole, and the content of a (possibly constructed,
possibly indefinite-length) OCTET STRING handed out in pieces, so a recording of any size is read with one
buffer of about ``CHUNK`` bytes.

Every length is checked against the element that holds it, nesting is capped, and running out of input is a
``DamagedRecording`` naming where the file ends."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .errors import DamagedRecording

CHUNK = 1 << 18  # 256 KiB reads: freed and reused by the allocator; 1 MiB reads measured 20% slower
MAX_DEPTH = 32  # far beyond any CMS structure; hostile nesting stops here
_MAX_HEADER = 2 + 4 + 8  # identifier, up to four tag-number octets, length octet, eight length octets

UNIVERSAL = 0x00
CONTEXT = 0x80
OCTET_STRING = 4
OID = 6
SEQUENCE = 16
SET = 17
INTEGER = 2

ByteSource = Callable[[int], bytes]  # read(n): up to n bytes, b"" at the end


@dataclass(frozen=True, slots=True)
class Header:
    tag_class: int  # UNIVERSAL, 0x40, CONTEXT or 0xC0
    constructed: bool
    number: int
    length: int | None  # None: indefinite, ended by end-of-contents
    raw: bytes  # the identifier and length octets as read

    def is_(self, tag_class: int, number: int) -> bool:
        return self.tag_class == tag_class and self.number == number


class BerReader:
    """Reads BER from ``read``; ``initial`` holds bytes already taken from it. ``section`` says which part is being
    read ("in its encrypted content"), for messages."""

    def __init__(self, read: ByteSource, initial: bytes = b"") -> None:
        self._read = read
        self._buf = initial
        self._pos = 0
        self._base = 0  # offset of _buf[0] in the input
        self._eof = False
        # The elements entered and not yet left: (end or None when indefinite, innermost definite end or None).
        self._open: list[tuple[int | None, int | None]] = []
        self.section = "in its envelope header"
        self.limit: int | None = None  # no header or element may reach past this offset (the header budget)
        self.limit_message = ""

    @property
    def offset(self) -> int:
        return self._base + self._pos

    def _fill(self, n: int) -> bool:
        """Make ``n`` bytes available at the read position; False when the input ends first."""
        while len(self._buf) - self._pos < n:
            if self._eof:
                return False
            more = self._read(CHUNK)
            if not more:
                self._eof = True
                continue
            rest = self._buf[self._pos :]
            self._base += self._pos
            self._buf = rest + more if rest else more
            self._pos = 0
        return True

    def truncated(self) -> DamagedRecording:
        return DamagedRecording(
            f"The recording is cut short: it ends after {self._base + len(self._buf):,} bytes, {self.section}."
        )

    def damaged(self, problem: str) -> DamagedRecording:
        return DamagedRecording(f"The recording is damaged: {problem} (at byte {self.offset:,}, {self.section}).")

    def _bound(self) -> int | None:
        return self._open[-1][1] if self._open else None

    def _check_end(self, end: int) -> None:
        bound = self._bound()
        if bound is not None and end > bound:
            raise self.damaged(f"an element declares {end - self.offset:,} bytes, more than the element holding it")

    def _check_limit(self, end: int) -> None:
        if self.limit is not None and end > self.limit:
            raise DamagedRecording(self.limit_message)

    def header(self) -> Header:
        self._check_limit(self.offset)
        bound = self._bound()
        if bound is not None and self.offset >= bound:
            raise self.damaged("an element is missing")
        self._fill(_MAX_HEADER)
        buf, start = self._buf, self._pos
        size = len(buf)
        if size - start < 2:
            raise self.truncated()
        first = buf[start]
        at = start + 1
        number = first & 0x1F
        if number == 0x1F:
            number = 0
            for _ in range(4):
                if at >= size:
                    raise self.truncated()
                octet = buf[at]
                at += 1
                number = (number << 7) | (octet & 0x7F)
                if not octet & 0x80:
                    break
            else:
                raise self.damaged("a tag number is too large")
        if at >= size:
            raise self.truncated()
        first_length = buf[at]
        at += 1
        constructed = bool(first & 0x20)
        length: int | None
        if first_length < 0x80:
            length = first_length
        elif first_length == 0x80:
            if not constructed:
                raise self.damaged("a primitive element has an indefinite length")
            length = None
        else:
            count = first_length & 0x7F
            if count > 8:
                raise self.damaged("a length field is too long")
            if at + count > size:
                raise self.truncated()
            length = int.from_bytes(buf[at : at + count], "big")
            at += count
        self._pos = at
        if length is not None:
            self._check_end(self.offset + length)
        return Header(first & 0xC0, constructed, number, length, buf[start:at])

    def expect(self, tag_class: int, number: int, what: str) -> Header:
        header = self.header()
        if not header.is_(tag_class, number):
            raise self.damaged(f"{what} is missing")
        return header

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes (a small element's content)."""
        self._check_end(self.offset + n)
        self._check_limit(self.offset + n)
        if not self._fill(n):
            raise self.truncated()
        data = self._buf[self._pos : self._pos + n]
        self._pos += n
        return data

    def enter(self, header: Header) -> None:
        """Read the children of the constructed element whose header was just read."""
        if len(self._open) >= MAX_DEPTH:
            raise self.damaged("elements are nested too deeply")
        end = None if header.length is None else self.offset + header.length
        bound = self._bound() if end is None else end
        self._open.append((end, bound))

    def at_end(self) -> bool:
        """Whether the element last entered has no more children."""
        end = self._open[-1][0]
        if end is not None:
            return self.offset >= end
        if not self._fill(2):
            raise self.truncated()
        return self._buf[self._pos] == 0 and self._buf[self._pos + 1] == 0

    def leave(self, what: str) -> None:
        """Close the element last entered, which must have no children left (``what`` names it)."""
        end = self._open[-1][0]
        if end is None:
            if not self.at_end():
                raise self.damaged(f"{what} holds unexpected data")
            self._pos += 2
        elif self.offset != end:
            raise self.truncated() if self.at_eof() else self.damaged(f"{what} holds unexpected data")
        self._open.pop()

    def element(self, header: Header) -> bytes:
        """The whole element whose header was just read, as its bytes, with indefinite lengths made definite (as
        asn1crypto needs them); constructed elements are walked, which caps their depth."""
        if header.length is not None:
            self._check_limit(self.offset + header.length)
        return self._copy(header)

    def _copy(self, header: Header) -> bytes:
        if not header.constructed:
            assert header.length is not None  # header() refuses indefinite primitives
            return header.raw + self.take(header.length)
        self.enter(header)
        parts = []
        while not self.at_end():
            parts.append(self._copy(self.header()))
        self.leave("an element")
        content = b"".join(parts)
        if header.length is not None:
            return header.raw + content
        return header.raw[:-1] + _length_octets(len(content)) + content  # the identifier, then a definite length

    def octets(self, header: Header) -> Iterator[memoryview]:
        """The content of the OCTET STRING (any tag) whose header was just read, in pieces; constructed ones are
        the concatenation of their OCTET STRING segments."""
        if not header.constructed:
            assert header.length is not None
            yield from self._stream(header.length)
            return
        self.enter(header)
        end, bound = self._open[-1]
        while True:
            # Fast path for what openssl -stream writes, thousands of small segments: a primitive OCTET STRING
            # whose header and content are already in the buffer.
            buf, at = self._buf, self._pos
            if len(buf) - at >= 4 and buf[at] == 0x04 and (end is None or self._base + at < end):
                first = buf[at + 1]
                size = 2 if first < 0x80 else 3 if first == 0x81 else 4 if first == 0x82 else 0
                length = first if size == 2 else buf[at + 2] if size == 3 else (buf[at + 2] << 8) | buf[at + 3]
                stop = at + size + length
                if size and stop <= len(buf) and (bound is None or self._base + stop <= bound):
                    self._pos = stop
                    yield memoryview(buf)[at + size : stop]
                    continue
            if self.at_end():
                break
            segment = self.header()
            if not segment.is_(UNIVERSAL, OCTET_STRING):
                raise self.damaged("the encrypted content holds an element that is not an OCTET STRING")
            yield from self.octets(segment)
        self.leave("the encrypted content")

    def _stream(self, n: int) -> Iterator[memoryview]:
        while n:
            available = len(self._buf) - self._pos
            if not available:
                if not self._fill(1):
                    raise self.truncated()
                available = len(self._buf) - self._pos
            piece = min(available, n)
            yield memoryview(self._buf)[self._pos : self._pos + piece]
            self._pos += piece
            n -= piece

    def at_eof(self) -> bool:
        return not self._fill(1)


def _length_octets(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets
