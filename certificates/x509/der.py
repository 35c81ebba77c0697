"""A minimal DER reader: just enough to split an upload into its top-level elements and sniff their shapes
(certificate, PKCS#7, PKCS#12) before handing them to ``cryptography``, so ``parsing`` can say what a file is."""

_PKCS7_OID_PREFIX = bytes.fromhex("2a864886f70d0107")  # 1.2.840.113549.1.7 (data, signedData, ...)

Header = tuple[int, int, int]  # (tag, content start, content end); the end may lie past the data if truncated


def header(data: bytes, pos: int) -> Header | None:
    if pos + 2 > len(data):
        return None
    tag, first = data[pos], data[pos + 1]
    if first < 0x80:
        return tag, pos + 2, pos + 2 + first
    count = first & 0x7F
    # 0x80 is BER's indefinite length and more than 4 length bytes is beyond any file we accept.
    if count == 0 or count > 4 or pos + 2 + count > len(data):
        return None
    length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
    return tag, pos + 2 + count, pos + 2 + count + length


def split_der(data: bytes) -> list[bytes] | None:
    """The top-level SEQUENCEs; trailing NULs or whitespace (padding some tools add) are ignored."""
    elements: list[bytes] = []
    pos = 0
    while pos < len(data):
        element = header(data, pos)
        if element is None or element[0] != 0x30 or element[2] > len(data):
            if elements and not data[pos:].strip(b"\x00 \t\r\n"):
                break
            return None
        elements.append(data[pos : element[2]])
        pos = element[2]
    return elements


def serial_content(data: bytes) -> bytes | None:
    """The serial number octets if ``data`` is shaped like a certificate, even a truncated one, else None.

    Shape: SEQUENCE { SEQUENCE { [0] version?, INTEGER serial, SEQUENCE { OID ... } ... } ... }. The OID after the
    serial tells a certificate from a CSR, whose INTEGER version is followed by a Name (a SEQUENCE of SETs).
    """
    outer = header(data, 0)
    tbs = header(data, outer[1]) if outer and outer[0] == 0x30 else None
    serial = header(data, tbs[1]) if tbs and tbs[0] == 0x30 else None
    if serial and serial[0] == 0xA0:
        serial = header(data, serial[2])
    if not serial or serial[0] != 0x02:
        return None
    algorithm = header(data, serial[2])
    if not algorithm or algorithm[0] != 0x30 or data[algorithm[1] : algorithm[1] + 1] != b"\x06":
        return None
    return data[serial[1] : serial[2]]


def looks_like_pkcs7(data: bytes) -> bool:
    # ContentInfo: SEQUENCE { OID 1.2.840.113549.1.7.x, ... }
    outer = header(data, 0)
    oid = header(data, outer[1]) if outer and outer[0] == 0x30 else None
    return bool(oid and oid[0] == 0x06 and data[oid[1] : oid[2]].startswith(_PKCS7_OID_PREFIX))


def looks_like_pkcs12(data: bytes) -> bool:
    # PFX: SEQUENCE { INTEGER 3, ContentInfo, ... }
    outer = header(data, 0)
    version = header(data, outer[1]) if outer and outer[0] == 0x30 else None
    if not version or version[0] != 0x02 or data[version[1] : version[2]] != b"\x03":
        return False
    return looks_like_pkcs7(data[version[2] :])


_MAX_OID_OCTETS = 64
Element = tuple[int, Header]  # (where its tag is, its header)


def children(data: bytes, start: int, end: int) -> list[Element] | None:
    """The elements from ``start`` to ``end``, or None if they do not fill it exactly."""
    found: list[Element] = []
    while start < end:
        element = header(data, start)
        if element is None or element[2] > end:
            return None
        found.append((start, element))
        start = element[2]
    return found


def _certificate_parts(certificate: bytes) -> tuple[Header, Header, list[Element]] | None:
    """The outer SEQUENCE, the TBSCertificate and its fields, if ``certificate`` is shaped like one."""
    outer = header(certificate, 0)
    if not outer or outer[0] != 0x30 or outer[2] > len(certificate):
        return None
    tbs = header(certificate, outer[1])
    fields = children(certificate, tbs[1], tbs[2]) if tbs and tbs[0] == 0x30 and tbs[2] <= outer[2] else None
    return (outer, tbs, fields) if tbs and fields else None


def rsa_numbers(certificate: bytes) -> tuple[int, int] | None:
    """The RSA key's (modulus, exponent) as written, also where ``cryptography`` refuses them (an even exponent)."""
    parts = _certificate_parts(certificate)
    fields = parts[2] if parts else []
    fields = fields[1:] if fields and fields[0][1][0] == 0xA0 else fields  # the optional version
    if len(fields) < 6 or fields[5][1][0] != 0x30:
        return None
    _, (_, start, end) = fields[5]
    spki = children(certificate, start, end)  # SubjectPublicKeyInfo ::= SEQUENCE { algorithm, BIT STRING }
    if not spki or len(spki) != 2 or spki[1][1][0] != 0x03:
        return None
    _, (_, start, end) = spki[1]
    key = certificate[start + 1 : end]  # after the unused-bits octet: RSAPublicKey ::= SEQUENCE { n, e }
    outer = header(key, 0)
    numbers = children(key, outer[1], outer[2]) if outer and outer[0] == 0x30 and outer[2] == len(key) else None
    if not numbers or len(numbers) != 2 or any(element[0] != 0x02 for _, element in numbers):
        return None
    modulus, exponent = (int.from_bytes(key[start:end], "big", signed=True) for _, (_, start, end) in numbers)
    return modulus, exponent


def extensions_apart(certificate: bytes) -> tuple[bytes, list[bytes], bytes] | None:
    """The TBSCertificate's content before its extensions, each Extension element, and what follows the
    TBSCertificate (signature algorithm and value): ``with_extensions`` puts them together again."""
    parts = _certificate_parts(certificate)
    if not parts or parts[2][-1][1][0] != 0xA3:
        return None
    outer, tbs, fields = parts
    at, (_, start, end) = fields[-1]
    wrapper = children(certificate, start, end)
    if not wrapper or len(wrapper) != 1 or wrapper[0][1][0] != 0x30:
        return None
    _, (_, start, end) = wrapper[0]
    elements = children(certificate, start, end)
    if elements is None:
        return None
    return (
        certificate[tbs[1] : at],
        [certificate[position : element[2]] for position, element in elements],
        certificate[tbs[2] : outer[2]],
    )


def with_extensions(before: bytes, extensions: list[bytes], after: bytes) -> bytes:
    """A certificate from ``extensions_apart``'s parts, with these extensions (its signature no longer matches)."""
    tbs = _tlv(0x30, before + _tlv(0xA3, _tlv(0x30, b"".join(extensions))))
    return _tlv(0x30, tbs + after)


def leading_oid(element: bytes) -> str | None:
    """The dotted OID a SEQUENCE starts with (an Extension, an AlgorithmIdentifier), if it does."""
    outer = header(element, 0)
    oid = header(element, outer[1]) if outer and outer[0] == 0x30 else None
    # Longer than any real OID: not decoded, as its arcs would be ever larger numbers.
    if not oid or oid[0] != 0x06 or not 0 < oid[2] - oid[1] <= _MAX_OID_OCTETS or oid[2] > len(element):
        return None
    arcs, value = [], 0
    content = element[oid[1] : oid[2]]
    if content[-1] & 0x80:
        return None  # the last arc is unfinished
    for octet in content:
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first, *arcs[1:]]))


def inner_signature_oid(certificate: bytes) -> str | None:
    """The signature algorithm the TBSCertificate names (the signed copy of the one outside it)."""
    parts = _certificate_parts(certificate)
    fields = parts[2] if parts else []
    fields = fields[1:] if fields and fields[0][1][0] == 0xA0 else fields  # the optional version
    if len(fields) < 2:
        return None
    position, (_, _, end) = fields[1]
    return leading_oid(certificate[position:end])


def certificate_apart(certificate: bytes) -> tuple[list[bytes], list[bytes]] | None:
    """The TBSCertificate's fields and the elements after it (signature algorithm, signature), each as DER:
    ``certificate_of`` puts them together again."""
    parts = _certificate_parts(certificate)
    if parts is None:
        return None
    outer, tbs, fields = parts
    rest = children(certificate, tbs[2], outer[2])
    if rest is None:
        return None
    return [certificate[at:end] for at, (_, _, end) in fields], [certificate[at:end] for at, (_, _, end) in rest]


def certificate_of(fields: list[bytes], rest: list[bytes]) -> bytes:
    return _tlv(0x30, _tlv(0x30, b"".join(fields)) + b"".join(rest))


def _tlv(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content
