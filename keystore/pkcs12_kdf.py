"""The PKCS#12 key derivation of RFC 7292 Appendix B, which the file's integrity MAC (and legacy PBE ciphers) use.

cryptography does not expose it, so it is written here and tested against MACs OpenSSL made.
"""

import hashlib
import hmac

from django.views.decorators.debug import sensitive_variables

MAC_HASHES = {"sha1": "sha1", "sha224": "sha224", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}


def bmp_password(password: str) -> bytes:
    """The password as RFC 7292 wants it for its KDF: UTF-16 big-endian with a two-byte terminator."""
    return password.encode("utf-16-be") + b"\x00\x00"


@sensitive_variables("password", "bmp", "block_input", "result")
def pkcs12_kdf(hash_name: str, password: str, salt: bytes, purpose: int, iterations: int, length: int) -> bytes:
    """RFC 7292 Appendix B.2: derive ``length`` bytes; purpose 1 = key, 2 = IV, 3 = MAC key."""
    new_hash = getattr(hashlib, hash_name)
    digest_size: int = new_hash().digest_size
    block_size: int = new_hash().block_size
    bmp = bmp_password(password)

    def stretch(data: bytes) -> bytes:
        """Repeat to a whole number of blocks (RFC 7292 B.2 steps 2-3)."""
        if not data:
            return b""
        size = block_size * -(-len(data) // block_size)
        return (data * (size // len(data) + 1))[:size]

    diversifier = bytes([purpose]) * block_size
    block_input = bytearray(stretch(salt) + stretch(bmp))
    result = b""
    while len(result) < length:
        a = new_hash(diversifier + bytes(block_input)).digest()
        for _ in range(iterations - 1):
            a = new_hash(a).digest()
        result += a
        b = int.from_bytes((a * (block_size // digest_size + 1))[:block_size], "big")
        for start in range(0, len(block_input), block_size):
            chunk = int.from_bytes(block_input[start : start + block_size], "big")
            block_input[start : start + block_size] = ((chunk + b + 1) % (1 << (8 * block_size))).to_bytes(
                block_size, "big"
            )
    return result[:length]


def pfx_mac(hash_name: str, password: str, salt: bytes, iterations: int, content: bytes) -> bytes:
    hash_name = MAC_HASHES[hash_name]
    mac_key = pkcs12_kdf(hash_name, password, salt, 3, iterations, getattr(hashlib, hash_name)().digest_size)
    return hmac.new(mac_key, content, hash_name).digest()
