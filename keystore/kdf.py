"""The cost rules for password-based key derivation, in one place.

Every encrypted key or keystore the portal reads says how its key is derived from the password: an
AlgorithmIdentifier (PKCS#5 v2 PBES2 with PBKDF2 or scrypt, PKCS#5 v1 PBES1, PKCS#12 PBE), a PKCS#12 MAC, or a
DEK-Info header. ``encryption_of``/``mac_derivation``/``dek_info_derivation`` read what it asks for, ``check`` refuses
a derivation that asks for too much before any work starts, and ``derive`` and ``decrypt`` do the work. A restore's
budget for the whole file, and each distinct derivation done once, are in ``restore_budget``.

The work of a derivation is counted in rounds: one iteration of the hash for one output block (PBKDF2 and the PKCS#12
KDF repeat the iterations for each block of key they produce). scrypt counts N·r·p, which costs here about as much
as many PBKDF2 rounds; its memory (128·N·r bytes) is bounded on its own.
"""

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import core  # type: ignore[import-untyped]
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, TripleDES
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.views.decorators.debug import sensitive_variables

from . import pkcs12_kdf as rfc7292
from . import rc2

# One derivation: about half a second here at worst (PBKDF2-HMAC-SHA256 runs ~2 million rounds a second; the PKCS#12
# MAC KDF, in Python, ~1.3 million). OpenSSL writes 2,048 PBKDF2 iterations, keytool 10,000, this portal 600,000.
MAX_ROUNDS = 1_000_000
# scrypt's big array; OpenSSL's own default ceiling is 32 MiB, and its default parameters (N=16384, r=8) use 16 MiB.
MAX_SCRYPT_MEMORY = 64 * 1024 * 1024

SCRYPT_OID = "1.3.6.1.4.1.11591.4.11"
_HASHES = {"md5": 16, "sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}
_CRYPTOGRAPHY_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# RC2 is decrypted in Python (rc2.py): ~45 µs per 8-byte block, the time of ~100 PBKDF2 rounds.
RC2_ROUNDS_PER_BLOCK = 100
# PBES2 ciphers this module decrypts: name -> (cipher, key length).
_PBES2_CIPHERS = {
    "aes128_cbc": ("aes", 16),
    "aes192_cbc": ("aes", 24),
    "aes256_cbc": ("aes", 32),
    "tripledes_3key": ("tripledes", 24),
    "des": ("tripledes", 8),  # single DES: TripleDES takes an 8-byte key as one key thrice
}
# PKCS#12 PBE (RFC 7292 App. C), always SHA-1: name -> (cipher, key length, IV length, RC2 effective bits).
_PKCS12_PBE = {
    "pkcs12_sha1_rc4_128": ("rc4", 16, 0, 0),
    "pkcs12_sha1_rc4_40": ("rc4", 5, 0, 0),
    "pkcs12_sha1_tripledes_3key": ("tripledes", 24, 8, 0),
    "pkcs12_sha1_tripledes_2key": ("tripledes", 16, 8, 0),
    "pkcs12_sha1_rc2_128": ("rc2", 16, 8, 128),
    "pkcs12_sha1_rc2_40": ("rc2", 5, 8, 40),
}
# PKCS#5 v1 PBES1: PBKDF1 with this hash gives the 8-byte DES or RC2 (64 effective bits) key and IV in one go.
_PBES1 = {
    "pbes1_md5_des": ("md5", "tripledes"),
    "pbes1_md5_rc2": ("md5", "rc2"),
    "pbes1_sha1_des": ("sha1", "tripledes"),
    "pbes1_sha1_rc2": ("sha1", "rc2"),
}
# Legacy PEM (DEK-Info): OpenSSL's EVP_BytesToKey, one MD5 round per 16 bytes of key.
_DEK_INFO_KEY_LENGTHS = {
    "AES-128-CBC": 16,
    "AES-192-CBC": 24,
    "AES-256-CBC": 32,
    "DES-EDE3-CBC": 24,
    "DES-CBC": 8,
    "CAMELLIA-128-CBC": 16,
    "CAMELLIA-192-CBC": 24,
    "CAMELLIA-256-CBC": 32,
}


class DerivationError(ValueError):
    """The derivation cannot or may not be done; the message says why, for the person who chose the file."""


class TooCostly(DerivationError):
    """One derivation asks for more work or memory than any request may spend on it."""


class _ScryptParams(core.Sequence):  # type: ignore[misc]
    """RFC 7914 section 7.1; asn1crypto does not know it."""

    _fields = [
        ("salt", core.OctetString),
        ("cost_parameter", core.Integer),
        ("block_size", core.Integer),
        ("parallelization_parameter", core.Integer),
        ("key_length", core.Integer, {"optional": True}),
    ]


@dataclass(frozen=True)
class Derivation:
    """What one key derivation asks for. Two equal derivations give the same bytes from the same password."""

    kdf: str  # "PBKDF2", "scrypt", "PKCS#12", "PBKDF1", "EVP_BytesToKey"
    hash_name: str  # "" for scrypt
    salt: bytes = field(repr=False)
    iterations: int  # scrypt: N
    key_length: int
    iv_length: int = 0  # PKCS#12 PBE derives its IV too (RFC 7292 B.2, purpose 2); PBKDF1 takes it from the key bytes
    block_size: int = 1  # scrypt r
    parallelism: int = 1  # scrypt p
    purpose: int = 1  # PKCS#12 KDF: 1 key (and 2 IV), 3 MAC key

    @property
    def rounds(self) -> int:
        if self.kdf == "scrypt":
            return self.iterations * self.block_size * self.parallelism
        if self.kdf == "PBKDF1":
            return self.iterations
        digest = _HASHES.get(self.hash_name, 16)
        return self.iterations * sum(math.ceil(length / digest) for length in (self.key_length, self.iv_length))

    @property
    def memory(self) -> int:
        return 128 * self.iterations * self.block_size if self.kdf == "scrypt" else 0

    def describe(self) -> str:
        if self.kdf == "scrypt":
            return f"scrypt N={self.iterations:,} r={self.block_size} p={self.parallelism}"
        hash_name = self.hash_name.upper()
        names = {
            "PBKDF2": f"PBKDF2-HMAC-{hash_name}",
            "PBKDF1": f"PBKDF1-{hash_name}",
            "PKCS#12": f"PKCS#12 {'MAC' if self.purpose == 3 else 'PBE'} key derivation ({hash_name})",
        }
        name = names.get(self.kdf, f"{self.kdf} ({hash_name})")
        return f"{name}, {self.iterations:,} iteration{'s' if self.iterations != 1 else ''}"


@dataclass(frozen=True)
class Encryption:
    """A password-based encryption read from its AlgorithmIdentifier: how its key is derived, the cipher (with its
    effective key bits for RC2) and, for PBES2, the IV. ``decryptable`` says whether ``decrypt`` opens it."""

    derivation: Derivation
    scheme: str  # the AlgorithmIdentifier's name, e.g. "pbes2", "pkcs12_sha1_tripledes_3key"
    cipher: str = ""  # "aes", "tripledes", "rc2", "rc4"; "" when this portal cannot decrypt it
    iv: bytes = b""  # PBES2 only: the others derive it

    @property
    def decryptable(self) -> bool:
        return bool(self.cipher)

    def work(self, ciphertext_length: int) -> int:
        """Rounds this decryption costs beyond its derivation: RC2 runs in Python."""
        return RC2_ROUNDS_PER_BLOCK * (ciphertext_length // 8) if self.cipher == "rc2" else 0


def _positive(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise DerivationError("The file is damaged: a key derivation asks for no work at all.")
    return number


def encryption_of(algorithm: Any) -> Encryption:
    """Read an asn1crypto ``EncryptionAlgorithm``; ``DerivationError`` for what this portal does not read."""
    try:
        scheme = algorithm["algorithm"].native
        if scheme == "pbes2":
            return _pbes2(algorithm["parameters"])
        if scheme in _PKCS12_PBE or scheme in _PBES1:
            params = algorithm["parameters"]
            salt, iterations = params["salt"].native, _positive(params["iterations"].native)
            if scheme in _PBES1:
                hash_name, cipher = _PBES1[scheme]
                return Encryption(Derivation("PBKDF1", hash_name, salt, iterations, 16), scheme, cipher)
            cipher, key_length, iv_length, _ = _PKCS12_PBE[scheme]
            return Encryption(Derivation("PKCS#12", "sha1", salt, iterations, key_length, iv_length), scheme, cipher)
    except DerivationError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError):
        raise DerivationError("The file is damaged: its encryption parameters cannot be read.") from None
    raise DerivationError("The file is encrypted with a method this portal does not support.")


def _pbes2(params: Any) -> Encryption:
    kdf = params["key_derivation_func"]
    scheme = params["encryption_scheme"]
    name = scheme["algorithm"].native
    cipher, key_length = _PBES2_CIPHERS.get(name, ("", 0))
    if not cipher:  # cryptography may still read it (a key file); its key length is what the derivation needs
        try:
            key_length = int(scheme.key_length)
        except (ValueError, TypeError, KeyError):
            raise DerivationError("The file is encrypted with a cipher this portal does not support.") from None
    iv = scheme["parameters"].native if cipher else b""
    kdf_name = kdf["algorithm"].native
    if kdf_name == "pbkdf2":
        pbkdf2 = kdf["parameters"]
        if pbkdf2["salt"].name != "specified":
            raise DerivationError("The file is encrypted with a method this portal does not support.")
        stated = pbkdf2["key_length"].native
        prf = pbkdf2["prf"]["algorithm"].native
        if prf not in _CRYPTOGRAPHY_HASHES:
            raise DerivationError(f"The file's key derivation uses HMAC-{prf.upper()}, which this portal cannot read.")
        if stated is not None and stated != key_length:
            raise DerivationError("The file is damaged: its key length does not fit its cipher.")
        salt = pbkdf2["salt"].native
        derivation = Derivation("PBKDF2", prf, salt, _positive(pbkdf2["iteration_count"].native), key_length)
    elif kdf_name == SCRYPT_OID:
        scrypt = kdf["parameters"].parse(_ScryptParams)
        stated = scrypt["key_length"].native
        if stated is not None and stated != key_length:
            raise DerivationError("The file is damaged: its key length does not fit its cipher.")
        n = _positive(scrypt["cost_parameter"].native)
        if n < 2 or n & (n - 1):
            raise DerivationError("The file is damaged: its scrypt cost N is not a power of two.")
        derivation = Derivation(
            "scrypt",
            "",
            scrypt["salt"].native,
            n,
            key_length,
            block_size=_positive(scrypt["block_size"].native),
            parallelism=_positive(scrypt["parallelization_parameter"].native),
        )
    else:
        raise DerivationError("The file's key derivation is one this portal does not support.")
    return Encryption(derivation, "pbes2", cipher, iv if isinstance(iv, bytes) else b"")


def mac_derivation(hash_name: str, salt: bytes, iterations: Any) -> Derivation:
    """The PKCS#12 integrity check's key (RFC 7292 App. B, purpose 3)."""
    return Derivation("PKCS#12", hash_name, salt, _positive(iterations), _HASHES[hash_name], purpose=3)


def dek_info_derivation(dek_info: str) -> Derivation:
    """A legacy PEM key's "DEK-Info: CIPHER,HEXIV" header: EVP_BytesToKey with MD5, one iteration, the IV's first 8
    bytes as salt."""
    cipher, _, iv_hex = dek_info.strip().partition(",")
    if cipher.upper() not in _DEK_INFO_KEY_LENGTHS:
        raise DerivationError("The key is encrypted with a cipher this portal does not support.")
    try:
        salt = bytes.fromhex(iv_hex.strip())[:8]
    except ValueError:
        raise DerivationError("The key file is damaged: its DEK-Info header cannot be read.") from None
    return Derivation("EVP_BytesToKey", "md5", salt, 1, _DEK_INFO_KEY_LENGTHS[cipher.upper()])


def check(derivation: Derivation, what: str) -> None:
    """``DerivationError`` naming the limit when one derivation asks for too much; ``what`` starts the message
    ("The key file")."""
    if derivation.kdf == "scrypt":
        if derivation.memory > MAX_SCRYPT_MEMORY:
            raise TooCostly(
                f"{what} asks for scrypt with {derivation.memory // (1024 * 1024):,} MiB of memory (128·N·r, "
                f"{derivation.describe()}); this portal allows at most {MAX_SCRYPT_MEMORY // (1024 * 1024)} MiB."
            )
        if derivation.rounds > MAX_ROUNDS:
            raise TooCostly(
                f"{what} asks for scrypt with N·r·p = {derivation.rounds:,} ({derivation.describe()}); this portal "
                f"allows at most {MAX_ROUNDS:,}."
            )
    elif derivation.rounds > MAX_ROUNDS:
        blocks = "" if derivation.rounds == derivation.iterations else ", once for each block of key"
        raise TooCostly(
            f"{what} asks for {derivation.rounds:,} key-derivation rounds ({derivation.describe()}{blocks}); this "
            f"portal allows at most {MAX_ROUNDS:,} per key derivation."
        )


@sensitive_variables("password", "secret")
def derive(derivation: Derivation, password: str) -> bytes:
    """The derived bytes: the key, then the IV for PKCS#12 PBE and PBKDF1."""
    secret = password.encode("utf-8")
    if derivation.kdf == "PBKDF2":
        algorithm = _CRYPTOGRAPHY_HASHES[derivation.hash_name]()
        return PBKDF2HMAC(algorithm, derivation.key_length, derivation.salt, derivation.iterations).derive(secret)
    if derivation.kdf == "scrypt":
        return Scrypt(
            derivation.salt, derivation.key_length, derivation.iterations, derivation.block_size, derivation.parallelism
        ).derive(secret)
    if derivation.kdf == "PKCS#12":
        args = (derivation.hash_name, password, derivation.salt)
        key = rfc7292.pkcs12_kdf(*args, derivation.purpose, derivation.iterations, derivation.key_length)
        if derivation.iv_length:
            key += rfc7292.pkcs12_kdf(*args, 2, derivation.iterations, derivation.iv_length)
        return key
    if derivation.kdf == "PBKDF1" and derivation.hash_name in ("md5", "sha1"):
        digest = hashlib.new(derivation.hash_name, secret + derivation.salt).digest()
        for _ in range(derivation.iterations - 1):
            digest = hashlib.new(derivation.hash_name, digest).digest()
        return digest[:16]
    raise DerivationError("The file is encrypted with a method this portal does not support.")


@sensitive_variables("derived", "key", "padded")
def decrypt(encryption: Encryption, derived: bytes, ciphertext: bytes) -> bytes:
    """The plaintext of ``ciphertext`` under ``derived`` (``derive``'s bytes for ``encryption.derivation``), padding
    removed; ``DerivationError`` when the password does not open it."""
    if encryption.scheme == "pbes2":
        key, iv = derived, encryption.iv
    else:
        split = 8 if encryption.scheme in _PBES1 else encryption.derivation.key_length
        key, iv = derived[:split], derived[split:]
    if encryption.cipher == "rc4":
        decryptor = Cipher(ARC4(key), mode=None).decryptor()
        return decryptor.update(ciphertext) + decryptor.finalize()
    block = 16 if encryption.cipher == "aes" else 8
    if len(iv) != block or not ciphertext or len(ciphertext) % block:
        raise DerivationError("The file is damaged: an encrypted part has the wrong length.")
    if encryption.cipher == "rc2":
        bits = _PKCS12_PBE[encryption.scheme][3] if encryption.scheme in _PKCS12_PBE else 64
        padded = rc2.decrypt_cbc(key, bits, iv, ciphertext)
    else:
        algorithm = algorithms.AES(key) if encryption.cipher == "aes" else TripleDES(key)
        decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = sym_padding.PKCS7(block * 8).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise DerivationError("The password does not open an encrypted part of the file.") from None
