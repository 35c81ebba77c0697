"""Reading private key files as the seeds list them. No Django here.

Accepted: "BEGIN RSA PRIVATE KEY" (also legacy-encrypted with DEK-Info), "BEGIN PRIVATE KEY", "BEGIN ENCRYPTED PRIVATE
KEY", and the DER forms of the same. RSA only, ``MIN_RSA_BITS`` or more. Every failure is a ``KeyFileError`` whose
message is meant for the person who chose the file.

The rules about recording keys live here once: the minimum RSA size, and when a private key belongs to a certificate
(the same public key, compared by the SHA-256 of its SubjectPublicKeyInfo).
"""

import bisect
import hashlib
import math
import re
import weakref
from dataclasses import dataclass
from typing import NoReturn, SupportsIndex

from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import pem as asn1_pem
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from . import kdf

MIN_RSA_BITS = 2048
# Each use of a private key costs as the cube of its size: checking one of 16,384 bits (OpenSSL's largest) takes over
# a second here, one of 8,192 bits about 35 ms. Recording keys are 2,048 to 4,096 bits.
MAX_RSA_BITS = 8192
MAX_KEY_FILE_BYTES = 256 * 1024
REENCRYPT_ADVICE = "Encrypt it again with the usual settings, e.g. openssl pkcs8 -topk8 -v2 aes-256-cbc."

RSA_TRADITIONAL = "OpenSSL RSA private key"
RSA_TRADITIONAL_ENCRYPTED = "Legacy encrypted OpenSSL RSA private key (DEK-Info)"
PKCS8 = "PKCS#8 private key"
PKCS8_ENCRYPTED = "Encrypted PKCS#8 private key"

PAIR_MISMATCH = "The private key does not belong to this certificate."

# Markers only, with a bounded label: the blocks between them are paired in ``_pem_blocks``, not by a regex spanning
# them (a back-reference with .*? rescans the rest of the file from every BEGIN: minutes for 250 KB of BEGIN lines).
_PEM_MARKER = re.compile(rb"-----(BEGIN|END) ([A-Z0-9 ]{1,64})-----")


class KeyFileError(ValueError):
    """A key file that cannot be used; the message says why, in words."""


class KeyPasswordError(KeyFileError):
    """The password is the problem: missing for an encrypted key, or wrong."""


@dataclass(frozen=True)
class KeyFileInfo:
    kind: str  # one of the four format names above, with " (DER)" for binary files
    encrypted: bool
    key_size: int | None  # None while an encrypted key has not been opened
    public_key_spki_sha256: str | None  # to match the key with its certificate

    @property
    def description(self) -> str:
        size = f", RSA {self.key_size} bits" if self.key_size else ""
        return f"{self.kind}{size}"

    def check_belongs_to(self, certificate_der: bytes) -> None:
        """``KeyFileError`` when this key is not the certificate's; an encrypted key not opened yet is not known to
        differ."""
        if self.public_key_spki_sha256 is not None:
            check_pair(self.public_key_spki_sha256, certificate_der)


def spki_sha256(public_key: PublicKeyTypes) -> str:
    """Hex SHA-256 of the key's SubjectPublicKeyInfo DER: the same value for a certificate and its private key
    (pass ``private_key.public_key()``), so the two can be matched without comparing key material."""
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()


def check_pair(key_spki_sha256: str, certificate_der: bytes) -> None:
    """The private key whose public key hashes to ``key_spki_sha256`` belongs to the certificate, or
    ``KeyFileError``."""
    try:
        public = x509.load_der_x509_certificate(certificate_der).public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError("The certificate could not be read.") from None
    if spki_sha256(public) != key_spki_sha256:
        raise KeyFileError(PAIR_MISMATCH)


def _der_inner_tags(data: bytes) -> tuple[int, int, int] | None:
    """The tags of the first two elements inside an outer SEQUENCE and the first byte of the first one's value,
    enough to tell PKCS#1, PKCS#8, encrypted PKCS#8 and PKCS#12 apart; None when the bytes are not such a SEQUENCE."""

    def skip_header(pos: int) -> int | None:
        if pos + 2 > len(data):
            return None
        length = data[pos + 1]
        if length < 0x80:
            return pos + 2
        count = length & 0x7F
        return pos + 2 + count if 0 < count <= 4 and pos + 2 + count <= len(data) else None

    def element_end(pos: int) -> int | None:
        start = skip_header(pos)
        if start is None:
            return None
        length = data[pos + 1]
        if length >= 0x80:
            length = int.from_bytes(data[pos + 2 : start], "big")
        return start + length

    if not data or data[0] != 0x30:
        return None
    first = skip_header(0)
    if first is None or first >= len(data):
        return None
    second = element_end(first)
    value = skip_header(first)
    if second is None or second >= len(data) or value is None or value >= len(data):
        return None
    return data[first], data[second], data[value]


def _pem_blocks(text: bytes) -> list[tuple[str, bytes]]:
    """(label, block) of each complete "-----BEGIN L-----" ... "-----END L-----" block, in order: each BEGIN with the
    first END of its label after it, blocks not overlapping. One pass finds every marker; each BEGIN then finds its END
    by bisecting that label's END positions, so no part of the text is scanned twice."""
    begins: list[tuple[int, int, bytes]] = []  # (start, end of the marker, label)
    ends: dict[bytes, list[tuple[int, int]]] = {}  # label -> (start, end) of its END markers, in order
    for marker in _PEM_MARKER.finditer(text):
        if marker.group(1) == b"BEGIN":
            begins.append((marker.start(), marker.end(), marker.group(2)))
        else:
            ends.setdefault(marker.group(2), []).append((marker.start(), marker.end()))
    blocks: list[tuple[str, bytes]] = []
    resume = 0
    for start, after, label in begins:
        if start < resume:  # inside the block found before
            continue
        candidates = ends.get(label, [])
        index = bisect.bisect_left(candidates, (after, 0))
        if index < len(candidates):
            resume = candidates[index][1]
            blocks.append((label.decode(), text[start:resume]))
    return blocks


def _classify(data: bytes) -> tuple[str, bool, bytes, bool]:
    """(kind, encrypted, bytes to load, is_pem) or KeyFileError for what is not a private key at all."""
    if not data.strip():
        raise KeyFileError("The key file is empty.")
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyFileError("The key file is larger than 256 KB; a private key file is a few KB.")
    text = data.lstrip(b"\xef\xbb\xbf")
    blocks = _pem_blocks(text)
    if blocks:
        labels = [label for label, _ in blocks]
        keys = [label for label in labels if label.endswith("PRIVATE KEY")]
        if not keys:
            if "CERTIFICATE" in labels:
                raise KeyFileError("This is a certificate, not a private key. Choose it under Certificate File.")
            if "PUBLIC KEY" in labels or "RSA PUBLIC KEY" in labels:
                raise KeyFileError("This is a public key; the Key File must be the private key.")
            raise KeyFileError(f"The key file holds a {labels[0]}, not a private key.")
        if len(keys) > 1:
            raise KeyFileError(f"The key file holds {len(keys)} private keys; choose a file with only one.")
        label = keys[0]
        block = next(block for found, block in blocks if found == label)
        if label == "RSA PRIVATE KEY":
            encrypted = b"DEK-Info:" in block
            return (RSA_TRADITIONAL_ENCRYPTED if encrypted else RSA_TRADITIONAL), encrypted, block, True
        if label == "PRIVATE KEY":
            return PKCS8, False, block, True
        if label == "ENCRYPTED PRIVATE KEY":
            return PKCS8_ENCRYPTED, True, block, True
        kind = {"EC PRIVATE KEY": "an EC key", "DSA PRIVATE KEY": "a DSA key", "OPENSSH PRIVATE KEY": "an OpenSSH key"}
        raise KeyFileError(f"The key file holds {kind.get(label, label)}; recording keys must be RSA PEM or DER.")
    tags = _der_inner_tags(text)
    first, second, version = tags if tags else (0, 0, 0)
    if (first, second) == (0x02, 0x30) and version == 3:
        raise KeyFileError("This is a PKCS#12 (.p12/.pfx) file; restore it as a keystore backup instead.")
    if (first, second) == (0x02, 0x02):
        return f"{RSA_TRADITIONAL} (DER)", False, text, False
    if (first, second) == (0x02, 0x30):
        return f"{PKCS8} (DER)", False, text, False
    if (first, second) == (0x30, 0x04):
        return f"{PKCS8_ENCRYPTED} (DER)", True, text, False
    if first == 0x30:
        raise KeyFileError("This looks like a certificate, not a private key. Choose it under Certificate File.")
    raise KeyFileError("The key file is not a private key: it is neither PEM nor DER.")


def key_type_name(key: object) -> str:
    names = {
        rsa.RSAPrivateKey: "RSA",
        ec.EllipticCurvePrivateKey: "EC",
        ed25519.Ed25519PrivateKey: "Ed25519",
        ed448.Ed448PrivateKey: "Ed448",
        dsa.DSAPrivateKey: "DSA",
    }
    return next((n for cls, n in names.items() if isinstance(key, cls)), type(key).__name__)


def check_rsa_size(bits: int) -> None:
    if bits < MIN_RSA_BITS:
        raise KeyFileError(f"The RSA key is {bits} bits; at least {MIN_RSA_BITS} are required.")
    if bits > MAX_RSA_BITS:
        raise KeyFileError(f"The RSA key is {bits:,} bits; this portal accepts keys of at most {MAX_RSA_BITS:,} bits.")


def _check_rsa(key: object) -> rsa.RSAPrivateKey:
    if isinstance(key, rsa.RSAPrivateKey):
        check_rsa_size(key.key_size)
        return key
    raise KeyFileError(f"The key is {key_type_name(key)}; recording keys must be RSA, {MIN_RSA_BITS} bits or more.")


_OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def check_consistent(key: rsa.RSAPrivateKey) -> None:
    """The key's numbers agree with each other and it decrypts what its public key encrypts.

    This replaces OpenSSL's RSA_check_key, whose primality tests take about 40 ms per 2048-bit key: arithmetic and one
    OAEP round trip (about 1 ms) catch a damaged or inconsistent key; primality only bears on the strength of the
    uploader's own key.
    """
    numbers = key.private_numbers()
    p, q, d, n, e = numbers.p, numbers.q, numbers.d, numbers.public_numbers.n, numbers.public_numbers.e
    consistent = (
        1 < p < n
        and 1 < q < n
        and p != q
        and p * q == n
        and (e * d) % math.lcm(p - 1, q - 1) == 1
        and numbers.dmp1 == d % (p - 1)
        and numbers.dmq1 == d % (q - 1)
        and (numbers.iqmp * q) % p == 1
    )
    if consistent:
        probe = b"recording key check"
        try:
            consistent = key.decrypt(key.public_key().encrypt(probe, _OAEP), _OAEP) == probe
        except ValueError:
            consistent = False
    if not consistent:
        raise KeyFileError("The key file is damaged: the numbers of the RSA key do not agree with each other.")


def describe_key_file(data: bytes) -> KeyFileInfo:
    """What the file is, without a password: for "Key Details" as soon as a file is chosen."""
    classified = _classify(data)
    kind, encrypted, body, is_pem = classified
    if encrypted:
        _check_derivation(kind, body, is_pem)  # say it now, before a password is typed for nothing
        return KeyFileInfo(kind=kind, encrypted=True, key_size=None, public_key_spki_sha256=None)
    return _info(kind, False, _load(classified, None))


def _derivation(kind: str, body: bytes, is_pem: bool) -> kdf.Derivation | None:
    """What deriving an encrypted key's password asks for; None when it cannot be read (then cryptography's own
    reading reports the damage)."""
    if kind.startswith(PKCS8_ENCRYPTED):
        try:
            der = asn1_pem.unarmor(body)[2] if is_pem else body
            algorithm = asn1_keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]
            algorithm["algorithm"].native  # noqa: B018 - reads the header now, so damage is reported as damage
        except (ValueError, TypeError, KeyError):
            return None
        return kdf.encryption_of(algorithm).derivation
    header = body.find(b"DEK-Info:")
    if header < 0:
        return None
    line_end = body.find(b"\n", header)
    return kdf.dek_info_derivation(body[header + len(b"DEK-Info:") : line_end].decode("ascii", "replace"))


def _check_derivation(kind: str, body: bytes, is_pem: bool) -> None:
    """The keystore's derivation limits (kdf.py), checked before any derivation starts."""
    try:
        derivation = _derivation(kind, body, is_pem)
        if derivation is not None:
            kdf.check(derivation, "The key file")
    except kdf.TooCostly as refused:
        raise KeyFileError(f"{refused} {REENCRYPT_ADVICE}") from None
    except kdf.DerivationError as refused:
        raise KeyFileError(str(refused)) from None


def _open(data: bytes, password: str | None) -> tuple[str, bool, rsa.RSAPrivateKey]:
    """(kind, encrypted, the key): the one place a key file is read, and an encrypted key's password derived."""
    classified = _classify(data)
    return classified[0], classified[1], _load(classified, password)


def _load(classified: tuple[str, bool, bytes, bool], password: str | None) -> rsa.RSAPrivateKey:
    """The key of a classified file (``_classify``), checked."""
    kind, encrypted, body, is_pem = classified
    if encrypted:
        _check_derivation(kind, body, is_pem)
    if encrypted and not password:
        raise KeyPasswordError("This key is encrypted: enter its Private Key Password.")
    secret = password.encode("utf-8") if encrypted and password else None
    loader = serialization.load_pem_private_key if is_pem else serialization.load_der_private_key
    try:
        # OpenSSL's own RSA check is slow (primality tests); check_consistent below does the useful part quickly.
        key = loader(body, password=secret, unsafe_skip_rsa_key_validation=True)
    except UnsupportedAlgorithm:
        raise KeyFileError("The key is encrypted with a cipher this portal does not support.") from None
    except (ValueError, TypeError):
        if encrypted:
            raise KeyPasswordError("The Private Key Password is wrong, or the key file is damaged.") from None
        raise KeyFileError("The key file is damaged: it could not be read as a private key.") from None
    rsa_key = _check_rsa(key)
    check_consistent(rsa_key)
    return rsa_key


def _info(kind: str, encrypted: bool, key: rsa.RSAPrivateKey) -> KeyFileInfo:
    return KeyFileInfo(kind, encrypted, key.key_size, spki_sha256(key.public_key()))


def load_private_key(data: bytes, password: str | None) -> rsa.RSAPrivateKey:
    """The key itself. Only the keystore calls this; the caller must not keep the object."""
    return _open(data, password)[2]


class OpenedKeyFile:
    """A key file opened once, with its password when it is encrypted: what it is (``info``) and, kept apart, the
    key itself for the keystore to seal.

    The key is not an attribute of this object: it is held in this module, found by the handle, and dropped with
    it. So neither the handle's repr, a debug page listing it, nor code outside the keystore reaches the key; the
    handle cannot be pickled or copied either.
    """

    __slots__ = ("__weakref__", "_info")

    def __init__(self, info: KeyFileInfo) -> None:
        self._info = info

    @property
    def info(self) -> KeyFileInfo:
        return self._info

    def __repr__(self) -> str:
        return f"<OpenedKeyFile: {self._info.description}>"

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError("An opened key file stays in the process that opened it; open the file again.")


_OPENED: weakref.WeakKeyDictionary[OpenedKeyFile, rsa.RSAPrivateKey] = weakref.WeakKeyDictionary()


def open_key_file(data: bytes, password: str | None) -> OpenedKeyFile:
    """Read the file once (deriving an encrypted key's password once) and keep the key for ``private_key_of``."""
    kind, encrypted, key = _open(data, password)
    opened = OpenedKeyFile(_info(kind, encrypted, key))
    _OPENED[opened] = key
    return opened


def private_key_of(opened: OpenedKeyFile) -> rsa.RSAPrivateKey:
    """The key behind a handle, for the keystore's ``store`` alone."""
    try:
        return _OPENED[opened]
    except KeyError:
        raise KeyFileError("The key file was not opened here; choose it again.") from None
