"""The content cipher: which AES mode the envelope names, and streaming decryption with it. CBC padding and the GCM
tag are checked at the end, after the last piece was written."""

import hmac
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from asn1crypto import algos, core  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import BadPadding, DamagedRecording, UnsupportedEnvelope

BATCH = 1 << 20  # pieces smaller than this are joined before AES sees them (openssl -stream writes 4 KiB segments)
BLOCK = 16
_CBC = {"aes128_cbc": 16, "aes192_cbc": 24, "aes256_cbc": 32}
_GCM = {"aes128_gcm": 16, "aes192_gcm": 24, "aes256_gcm": 32}
_OTHER_NAMES = {"des": "DES", "tripledes_3key": "Triple DES", "rc2": "RC2", "rc5": "RC5"}

Write = Callable[[bytes | memoryview], object]  # a view is valid only during the call


class _GcmParameters(core.Sequence):  # RFC 5084
    _fields = [("nonce", core.OctetString), ("icv_length", core.Integer, {"default": 12})]


@dataclass(frozen=True)
class ContentCipher:
    name: str  # "aes-256-cbc", "aes-128-gcm", ...
    key_length: int
    iv: bytes  # the CBC IV or the GCM nonce
    tag_length: int  # 0 for CBC

    @property
    def authenticated(self) -> bool:
        return self.tag_length > 0


def content_cipher(der: bytes) -> ContentCipher:
    """The contentEncryptionAlgorithm (an AlgorithmIdentifier's DER)."""
    try:
        algorithm = algos.EncryptionAlgorithm.load(der, strict=True)
        oid = algorithm["algorithm"]
        name, dotted = oid.native, oid.dotted
        parameters = algorithm["parameters"]
        if name in _CBC:
            iv = parameters.native
            cipher = ContentCipher(name.replace("_", "-").replace("aes", "aes-"), _CBC[name], iv, 0)
        elif name in _GCM:
            gcm = _GcmParameters.load(parameters.dump(), strict=True)
            nonce, tag_length = gcm["nonce"].native, gcm["icv_length"].native
            cipher = ContentCipher(name.replace("_", "-").replace("aes", "aes-"), _GCM[name], nonce, tag_length)
        else:
            raise UnsupportedEnvelope(
                f"The recording is encrypted with {_OTHER_NAMES.get(name, name if name != dotted else dotted)}; "
                "only AES-CBC and AES-GCM are supported."
            )
    except UnsupportedEnvelope:
        raise
    # asn1crypto reports malformed input with several exception types; all of them mean the same to the user.
    except Exception:
        raise DamagedRecording("The recording is damaged: its content encryption algorithm cannot be read.") from None
    if not cipher.authenticated and (not isinstance(cipher.iv, bytes) or len(cipher.iv) != BLOCK):
        raise DamagedRecording("The recording is damaged: its AES-CBC IV is not 16 bytes long.")
    if cipher.authenticated and not (8 <= len(cipher.iv) <= 64 and 12 <= cipher.tag_length <= 16):
        raise UnsupportedEnvelope("The recording's AES-GCM nonce or tag length is not supported.")
    return cipher


def batched(pieces: Iterable[memoryview]) -> Iterator[bytes | memoryview]:
    """The pieces, small ones joined up to ``BATCH`` bytes so each AES call has plenty to do."""
    held: list[memoryview] = []
    size = 0
    for piece in pieces:
        if len(piece) >= BATCH // 4:  # large enough alone: no copy
            if held:
                yield b"".join(held)
                held, size = [], 0
            yield piece
            continue
        held.append(piece)
        size += len(piece)
        if size >= BATCH:
            yield b"".join(held)
            held, size = [], 0
    if held:
        yield b"".join(held)


class CbcDecryption:
    """AES-CBC with PKCS#7 padding: the last decrypted piece is held back until the padding is checked.

    Plaintext is decrypted into two buffers used in turn, so a gigabyte costs no allocation per piece: ``write``
    receives a view that is valid until its next call, and must consume (or copy) it at once."""

    def __init__(self, key: bytes, iv: bytes, write: Write) -> None:
        self._decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        self._write = write
        self._held = bytearray()
        self._held_length = 0
        self._spare = bytearray()
        self.written = 0

    def update(self, data: bytes | memoryview) -> None:
        out = self._spare
        if len(out) < len(data) + BLOCK:
            out = bytearray(len(data) + BLOCK)
        produced = self._decryptor.update_into(data, out)
        if produced:
            if self._held_length:
                self._write(memoryview(self._held)[: self._held_length])
                self.written += self._held_length
            self._spare, self._held, self._held_length = self._held, out, produced

    def finish(self) -> int:
        try:
            self._decryptor.finalize()
        except ValueError:
            raise DamagedRecording(
                "The recording is damaged: its encrypted content is not a whole number of AES blocks."
            ) from None
        last = bytes(self._held[: self._held_length])
        count = last[-1] if last else 0
        if not 1 <= count <= BLOCK or not hmac.compare_digest(last[-count:], bytes([count]) * count):
            raise BadPadding("The recording is damaged: its decrypted content has bad padding.")
        self._write(last[:-count])
        return self.written + len(last) - count


class GcmDecryption:
    """AES-GCM (RFC 5083/5084). The authenticated attributes come after the content in the envelope, so the content
    is decrypted without them and the tag adjusted for them at the end (GHASH is linear)."""

    def __init__(self, key: bytes, nonce: bytes, tag_length: int, write: Write) -> None:
        self._key = key
        self._decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce, min_tag_length=tag_length)).decryptor()
        self._write = write
        self.written = 0

    def update(self, data: bytes | memoryview) -> None:
        plain = self._decryptor.update(data)
        if plain:
            self._write(plain)
            self.written += len(plain)

    def finish(self, tag: bytes, aad: bytes) -> int:
        if aad:
            tag = _tag_without_aad(self._key, tag, aad, self.written)
        self._key = b""
        try:
            self._decryptor.finalize_with_tag(tag)
        except InvalidTag:
            raise DamagedRecording(
                "The recording is damaged or altered: its authentication tag does not match its content."
            ) from None
        return self.written


_R = 0xE1 << 120
_ONE = 1 << 127  # the field's 1 in GCM's bit order


def _multiply(x: int, y: int) -> int:
    """Multiplication in GF(2^128) as GCM defines it (NIST SP 800-38D, algorithm 1)."""
    product = 0
    for bit in range(127, -1, -1):
        if (x >> bit) & 1:
            product ^= y
        y = (y >> 1) ^ _R if y & 1 else y >> 1
    return product


def _power(h: int, exponent: int) -> int:
    result = _ONE
    while exponent:
        if exponent & 1:
            result = _multiply(result, h)
        h = _multiply(h, h)
        exponent >>= 1
    return result


def _tag_without_aad(key: bytes, tag: bytes, aad: bytes, content_length: int) -> bytes:
    """The tag the same content would carry with no AAD: GHASH(A, C) = GHASH(C) + H^(n+1) * GHASH(A) + len(A) * H,
    where n is the number of content blocks."""
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305  # one block: H = AES_K(0^128)
    h = int.from_bytes(encryptor.update(bytes(BLOCK)), "big")
    aad_hash = 0
    padded = aad + bytes(-len(aad) % BLOCK)
    for start in range(0, len(padded), BLOCK):
        aad_hash = _multiply(aad_hash ^ int.from_bytes(padded[start : start + BLOCK], "big"), h)
    blocks = -(-content_length // BLOCK)
    delta = _multiply(_power(h, blocks + 1), aad_hash) ^ _multiply((len(aad) * 8) << 64, h)
    full = delta.to_bytes(BLOCK, "big")
    return bytes(a ^ b for a, b in zip(tag, full, strict=False))
