"""RC2 decryption (RFC 2268) in CBC mode, for the legacy PKCS#12 files that keytool and OpenSSL write with 40-bit RC2
(their certificates): cryptography reads RC2 only with 128-bit keys. Pure Python, about 45 µs per 8-byte block here, so
the caller counts the blocks against its budget before decrypting (kdf.RC2_ROUNDS_PER_BLOCK)."""

import struct

_BLOCK = struct.Struct("<4H")
_PITABLE = bytes(
    [
        217, 120, 249, 196, 25, 221, 181, 237, 40, 233, 253, 121, 74, 160, 216, 157,
        198, 126, 55, 131, 43, 118, 83, 142, 98, 76, 100, 136, 68, 139, 251, 162,
        23, 154, 89, 245, 135, 179, 79, 19, 97, 69, 109, 141, 9, 129, 125, 50,
        189, 143, 64, 235, 134, 183, 123, 11, 240, 149, 33, 34, 92, 107, 78, 130,
        84, 214, 101, 147, 206, 96, 178, 28, 115, 86, 192, 20, 167, 140, 241, 220,
        18, 117, 202, 31, 59, 190, 228, 209, 66, 61, 212, 48, 163, 60, 182, 38,
        111, 191, 14, 218, 70, 105, 7, 87, 39, 242, 29, 155, 188, 148, 67, 3,
        248, 17, 199, 246, 144, 239, 62, 231, 6, 195, 213, 47, 200, 102, 30, 215,
        8, 232, 234, 222, 128, 82, 238, 247, 132, 170, 114, 172, 53, 77, 106, 42,
        150, 26, 210, 113, 90, 21, 73, 116, 75, 159, 208, 94, 4, 24, 164, 236,
        194, 224, 65, 110, 15, 81, 203, 204, 36, 145, 175, 80, 161, 244, 112, 57,
        153, 124, 58, 133, 35, 184, 180, 122, 252, 2, 54, 91, 37, 85, 151, 49,
        45, 93, 250, 152, 227, 138, 146, 174, 5, 223, 41, 16, 103, 108, 186, 201,
        211, 0, 230, 207, 225, 158, 168, 44, 99, 22, 1, 63, 88, 226, 137, 169,
        13, 56, 52, 27, 171, 51, 255, 176, 187, 72, 12, 95, 185, 177, 205, 46,
        197, 243, 219, 71, 229, 165, 156, 119, 10, 166, 32, 104, 254, 127, 193, 173,
    ]
)  # fmt: skip


def _expand(key: bytes, effective_bits: int) -> list[int]:
    """RFC 2268 section 2: the 64 16-bit subkeys."""
    size = len(key)
    expanded = bytearray(128)
    expanded[:size] = key
    for i in range(size, 128):
        expanded[i] = _PITABLE[(expanded[i - 1] + expanded[i - size]) & 0xFF]
    t8 = (effective_bits + 7) // 8
    mask = 0xFF >> (8 * t8 - effective_bits)
    expanded[128 - t8] = _PITABLE[expanded[128 - t8] & mask]
    for i in range(127 - t8, -1, -1):
        expanded[i] = _PITABLE[expanded[i + 1] ^ expanded[i + t8]]
    return [expanded[2 * i] | expanded[2 * i + 1] << 8 for i in range(64)]


def _decrypt_block(k: list[int], r0: int, r1: int, r2: int, r3: int) -> tuple[int, int, int, int]:
    """RFC 2268 section 4: five reverse mixing rounds, a reverse mash, six, a mash, five."""
    j = 63
    for rounds in (5, -1, 6, -1, 5):
        if rounds < 0:
            r3 = (r3 - k[r2 & 63]) & 0xFFFF
            r2 = (r2 - k[r1 & 63]) & 0xFFFF
            r1 = (r1 - k[r0 & 63]) & 0xFFFF
            r0 = (r0 - k[r3 & 63]) & 0xFFFF
            continue
        for _ in range(rounds):
            r3 = ((r3 >> 5) | (r3 << 11)) & 0xFFFF
            r3 = (r3 - k[j] - (r2 & r1) - (~r2 & r0)) & 0xFFFF
            r2 = ((r2 >> 3) | (r2 << 13)) & 0xFFFF
            r2 = (r2 - k[j - 1] - (r1 & r0) - (~r1 & r3)) & 0xFFFF
            r1 = ((r1 >> 2) | (r1 << 14)) & 0xFFFF
            r1 = (r1 - k[j - 2] - (r0 & r3) - (~r0 & r2)) & 0xFFFF
            r0 = ((r0 >> 1) | (r0 << 15)) & 0xFFFF
            r0 = (r0 - k[j - 3] - (r3 & r2) - (~r3 & r1)) & 0xFFFF
            j -= 4
    return r0, r1, r2, r3


def decrypt_cbc(key: bytes, effective_bits: int, iv: bytes, ciphertext: bytes) -> bytes:
    """RC2-CBC decryption, padding left on; the caller checks the lengths are whole blocks."""
    k = _expand(key, effective_bits)
    out = bytearray()
    previous = int.from_bytes(iv, "little")
    for r0, r1, r2, r3 in _BLOCK.iter_unpack(ciphertext):
        plain = _BLOCK.pack(*_decrypt_block(k, r0, r1, r2, r3))
        out += (int.from_bytes(plain, "little") ^ previous).to_bytes(8, "little")
        previous = r0 | r1 << 16 | r2 << 32 | r3 << 48
    return bytes(out)
