"""PKCS#12 (RFC 7292) keystores with many entries, as Java keytool and OpenSSL read and write them.

The cryptography package writes one private key per PKCS#12 file, and the Recording Crypto Server reads one Java
keystore holding every key, so this module assembles the file itself from asn1crypto's RFC 7292 structures and
cryptography's primitives:

- each private key is a PKCS8ShroudedKeyBag encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), its friendlyName
  is the alias and its localKeyId pairs it with its certificate;
- the certificates are one CertBag each, in one SafeContents encrypted the same way;
- the integrity check is HMAC-SHA256 with its key from the PKCS#12 KDF (RFC 7292, Appendix B) over the password.

Reading accepts what keytool and OpenSSL write, including their legacy RC2/3DES files: cryptography (OpenSSL) checks
the password and decrypts the certificates; asn1crypto walks the bags so that every key is found, not just the first.
No Django models here: these functions take and return keys and bytes only.
"""

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import algos, cms, keys, pem  # type: ignore[import-untyped]
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.serialization import pkcs12
from django.views.decorators.debug import sensitive_variables

from .keyfiles import MAX_KDF_ITERATIONS
from .pkcs12_kdf import MAC_HASHES, pfx_mac

# PBKDF2-HMAC-SHA256 rounds for what we write (OWASP's 2023 figure); the MAC uses as many, or it would be the
# cheaper target for guessing the password.
ITERATIONS = 600_000
MAX_ITERATIONS = MAX_KDF_ITERATIONS
MAX_PFX_BYTES = 16 * 1024 * 1024


class PfxError(ValueError):
    """A PKCS#12 file that cannot be read; the message is for the person who chose the file."""


@dataclass(frozen=True)
class PfxEntry:
    """One key entry to write: alias, certificate (DER) and private key."""

    alias: str
    certificate_der: bytes
    private_key: PrivateKeyTypes = field(repr=False)


@dataclass(frozen=True)
class PfxKey:
    """One private key found in a file, with its certificate when the file holds the matching one."""

    alias: str
    private_key: PrivateKeyTypes = field(repr=False)
    certificate_der: bytes | None


@dataclass(frozen=True)
class PfxContents:
    keys: list[PfxKey]
    certificates_without_key: list[tuple[str, bytes]]  # (name, DER): CA or chain certificates


class _Pbes2:
    """PBES2 with one PBKDF2 derivation per file: each bag gets its own random IV under the derived key, so a
    keystore of many entries costs one key derivation rather than one per entry."""

    @sensitive_variables("password")
    def __init__(self, password: str, iterations: int) -> None:
        self.salt = os.urandom(16)
        self.iterations = iterations
        self._key = PBKDF2HMAC(hashes.SHA256(), 32, self.salt, iterations).derive(password.encode("utf-8"))

    def __repr__(self) -> str:
        return f"<PBES2 iterations={self.iterations}>"

    @sensitive_variables("plaintext", "padded")
    def encrypt(self, plaintext: bytes) -> tuple[Any, bytes]:
        iv = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES256(self._key), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        algorithm = algos.EncryptionAlgorithm(
            {
                "algorithm": "pbes2",
                "parameters": {
                    "key_derivation_func": {
                        "algorithm": "pbkdf2",
                        "parameters": {
                            "salt": algos.Pbkdf2Salt(name="specified", value=self.salt),
                            "iteration_count": self.iterations,
                            "prf": {"algorithm": "sha256"},
                        },
                    },
                    "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": iv},
                },
            }
        )
        return algorithm, ciphertext


def _attributes(alias: str, local_key_id: bytes) -> Any:
    return asn1_pkcs12.Attributes(
        [
            {"type": "friendly_name", "values": [alias]},
            {"type": "local_key_id", "values": [local_key_id]},
        ]
    )


@sensitive_variables("password", "plaintext", "entries")
def build_pfx(entries: Sequence[PfxEntry], password: str, *, iterations: int | None = None) -> bytes:
    """One password-protected PKCS#12 file holding every entry under its alias."""
    iterations = iterations or ITERATIONS
    if not password:
        raise ValueError("a PKCS#12 file needs a password")
    encryption = _Pbes2(password, iterations)
    key_bags, cert_bags = [], []
    for entry in entries:
        local_key_id = hashlib.sha1(entry.alias.lower().encode() + entry.certificate_der).digest()  # noqa: S324
        plaintext = entry.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        algorithm, ciphertext = encryption.encrypt(plaintext)
        key_bags.append(
            asn1_pkcs12.SafeBag(
                {
                    "bag_id": "pkcs8_shrouded_key_bag",
                    "bag_value": keys.EncryptedPrivateKeyInfo(
                        {"encryption_algorithm": algorithm, "encrypted_data": ciphertext}
                    ),
                    "bag_attributes": _attributes(entry.alias, local_key_id),
                }
            )
        )
        cert_bags.append(
            asn1_pkcs12.SafeBag(
                {
                    "bag_id": "cert_bag",
                    "bag_value": asn1_pkcs12.CertBag(
                        {"cert_id": "x509", "cert_value": asn1_x509.Certificate.load(entry.certificate_der)}
                    ),
                    "bag_attributes": _attributes(entry.alias, local_key_id),
                }
            )
        )
    cert_algorithm, cert_ciphertext = encryption.encrypt(asn1_pkcs12.SafeContents(cert_bags).dump())
    authenticated_safe = asn1_pkcs12.AuthenticatedSafe(
        [
            {
                "content_type": "encrypted_data",
                "content": cms.EncryptedData(
                    {
                        "version": "v0",
                        "encrypted_content_info": {
                            "content_type": "data",
                            "content_encryption_algorithm": cert_algorithm,
                            "encrypted_content": cert_ciphertext,
                        },
                    }
                ),
            },
            {"content_type": "data", "content": asn1_pkcs12.SafeContents(key_bags).dump()},
        ]
    ).dump()
    mac_salt = os.urandom(32)
    mac = pfx_mac("sha256", password, mac_salt, iterations, authenticated_safe)
    pfx: bytes = asn1_pkcs12.Pfx(
        {
            "version": "v3",
            "auth_safe": {"content_type": "data", "content": authenticated_safe},
            "mac_data": {
                "mac": {"digest_algorithm": {"algorithm": "sha256"}, "digest": mac},
                "mac_salt": mac_salt,
                "iterations": iterations,
            },
        }
    ).dump()
    return pfx


@sensitive_variables("password", "plaintext", "private_key")
def encrypted_pkcs8_pem(private_key: PrivateKeyTypes, password: str, *, iterations: int | None = None) -> bytes:
    """ "BEGIN ENCRYPTED PRIVATE KEY" (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) with our iteration count; cryptography's
    own PKCS#8 encryption uses far fewer rounds and cannot be told otherwise."""
    plaintext = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    algorithm, ciphertext = _Pbes2(password, iterations or ITERATIONS).encrypt(plaintext)
    info = keys.EncryptedPrivateKeyInfo({"encryption_algorithm": algorithm, "encrypted_data": ciphertext})
    return bytes(pem.armor("ENCRYPTED PRIVATE KEY", info.dump()))


# Reading -------------------------------------------------------------------------------------------------------------

_DAMAGED = "The file is damaged or is not a PKCS#12 keystore (.p12 or .pfx)."
_WRONG_PASSWORD = "The keystore password is wrong, or the file was altered."


def _iterations_of(algorithm: Any) -> int:
    try:
        return int(algorithm.kdf_iterations)
    except (ValueError, KeyError, TypeError):  # an algorithm asn1crypto does not know: left to the decryptor
        return 0


def _check_work(iterations: int) -> None:
    if iterations > MAX_ITERATIONS:
        raise PfxError(
            f"The file asks for {iterations:,} key-derivation rounds; this portal reads files with up to "
            f"{MAX_ITERATIONS:,}. Export it again with the default settings of keytool or OpenSSL."
        )


def _parse(data: bytes) -> Any:
    if not data:
        raise PfxError("The file is empty.")
    if len(data) > MAX_PFX_BYTES:
        raise PfxError("The file is larger than 16 MB; a keystore backup is far smaller.")
    try:
        pfx = asn1_pkcs12.Pfx.load(data)
        pfx.native  # noqa: B018 - parses the whole structure now, so damage is found before anything is decrypted
        if pfx["auth_safe"]["content_type"].native != "data":
            raise PfxError("This PKCS#12 file is protected with a public key, not a password; it cannot be read here.")
        safes = list(pfx.authenticated_safe)
    except PfxError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        raise PfxError(_DAMAGED) from None
    return pfx, safes


@sensitive_variables("password")
def _verify_mac(pfx: Any, password: str) -> None:
    mac_data = pfx["mac_data"]
    if not mac_data:
        raise PfxError("The file has no password integrity check; export it again with a password.")
    hash_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    if hash_name not in MAC_HASHES:
        raise PfxError(f"The file's integrity check uses {hash_name}, which this portal does not support.")
    iterations = mac_data["iterations"].native
    _check_work(iterations)
    content = pfx["auth_safe"]["content"].native
    expected = pfx_mac(hash_name, password, mac_data["mac_salt"].native, iterations, content)
    if not hmac.compare_digest(expected, mac_data["mac"]["digest"].native):
        raise PfxError(_WRONG_PASSWORD)


def _bags(safe_contents: Any) -> list[Any]:
    found = []
    for bag in safe_contents:
        if bag["bag_id"].native == "safe_contents":
            found.extend(_bags(bag["bag_value"].untag()))
        else:
            found.append(bag)
    return found


def _bag_attribute(bag: Any, name: str) -> Any:
    for attribute in bag["bag_attributes"] or []:
        if attribute["type"].native == name and attribute["values"]:
            return attribute["values"][0].native
    return None


def _public_der(key: PrivateKeyTypes | x509.Certificate) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _certificate_name(certificate: x509.Certificate, friendly_name: bytes | None) -> str:
    if friendly_name:
        return friendly_name.decode("utf-8", "replace")
    common_names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(common_names[0].value) if common_names else certificate.subject.rfc4514_string()


@sensitive_variables("password", "secret", "private_key", "loaded")
def read_pfx(data: bytes, password: str) -> PfxContents:
    """Every private key in the file with its certificate, and the certificates that have no key."""
    pfx, safes = _parse(data)
    _verify_mac(pfx, password)
    secret = password.encode("utf-8")

    key_bags: list[Any] = []
    for safe in safes:
        kind = safe["content_type"].native
        if kind == "data":
            key_bags.extend(
                bag
                for bag in _bags(asn1_pkcs12.SafeContents.load(safe["content"].native))
                if bag["bag_id"].native in ("key_bag", "pkcs8_shrouded_key_bag")
            )
        elif kind == "encrypted_data":
            algorithm = safe["content"]["encrypted_content_info"]["content_encryption_algorithm"]
            _check_work(_iterations_of(algorithm))
        else:
            raise PfxError("This PKCS#12 file encrypts its contents for a public key; it cannot be read here.")
    for bag in key_bags:
        if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
            _check_work(_iterations_of(bag["bag_value"]["encryption_algorithm"]))

    try:
        # OpenSSL decrypts the certificates whatever their (legacy) cipher; it returns only the first key.
        loaded = pkcs12.load_pkcs12(data, secret)
    except ValueError:
        raise PfxError(
            "The file could not be decrypted: it is damaged or uses a cipher this portal does not support."
        ) from None
    certificates: list[tuple[x509.Certificate, bytes | None]] = []
    for item in ([loaded.cert] if loaded.cert else []) + list(loaded.additional_certs):
        certificates.append((item.certificate, item.friendly_name))

    found: list[tuple[str | None, PrivateKeyTypes]] = []
    for bag in key_bags:
        body = bag["bag_value"].untag().dump()
        try:
            if bag["bag_id"].native == "key_bag":
                private_key = serialization.load_der_private_key(body, password=None)
            else:
                private_key = serialization.load_der_private_key(body, password=secret)
        except (ValueError, TypeError):
            raise PfxError(
                "A private key in the file could not be decrypted: it is damaged or uses a cipher this portal "
                "does not support."
            ) from None
        except Exception as exc:  # cryptography's UnsupportedAlgorithm and kin
            raise PfxError(f"A private key in the file cannot be read: {type(exc).__name__}.") from None
        found.append((_bag_attribute(bag, "friendly_name"), private_key))
    if loaded.key is not None and all(_public_der(k) != _public_der(loaded.key) for _, k in found):
        # A key kept somewhere the bag walk does not look (inside an encrypted SafeContents).
        found.append((None, loaded.key))

    result, used = [], set()
    for index, (friendly_name, private_key) in enumerate(found, start=1):
        candidates = [i for i, (c, _) in enumerate(certificates) if _public_der(c) == _public_der(private_key)]
        # Several certificates for one key (a renewal): prefer the one filed under the key's own name.
        candidates.sort(key=lambda i: certificates[i][1] != (friendly_name or "").encode())
        match = certificates[candidates[0]] if candidates else None
        if candidates:
            used.add(candidates[0])
        alias = friendly_name or (_certificate_name(*match) if match else f"key-{index}")
        certificate_der = match[0].public_bytes(serialization.Encoding.DER) if match else None
        result.append(PfxKey(alias=alias, private_key=private_key, certificate_der=certificate_der))
    orphans = [
        (_certificate_name(certificate, name), certificate.public_bytes(serialization.Encoding.DER))
        for i, (certificate, name) in enumerate(certificates)
        if i not in used
    ]
    return PfxContents(keys=result, certificates_without_key=orphans)
