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
