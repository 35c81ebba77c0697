"""Writing: every entry in one file, one PBKDF2 derivation for all of them."""

import hashlib
import os
from collections.abc import Sequence
from typing import Any

from asn1crypto import algos, cms, keys, pem  # type: ignore[import-untyped]
from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.views.decorators.debug import sensitive_variables

from ..pkcs12_kdf import pfx_mac
from .contents import PfxEntry, default_iterations

# DER tags of what the bags are assembled from.
_SEQUENCE, _SET, _OCTET_STRING, _BMP_STRING, _EXPLICIT_0 = 0x30, 0x31, 0x04, 0x1E, 0xA0
_KEY_BAG = asn1_pkcs12.BagId("pkcs8_shrouded_key_bag").dump()
_CERT_BAG = asn1_pkcs12.BagId("cert_bag").dump()
_X509_CERTIFICATE = asn1_pkcs12.CertId("x509").dump()
_FRIENDLY_NAME = asn1_pkcs12.AttributeType("friendly_name").dump()
_LOCAL_KEY_ID = asn1_pkcs12.AttributeType("local_key_id").dump()


def _der(tag: int, *contents: bytes) -> bytes:
    """One DER element: ``tag``, the definite length, then ``contents`` joined."""
    body = b"".join(contents)
    if len(body) < 0x80:
        return bytes((tag, len(body))) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + body


class _Pbes2:
    """PBES2 with one PBKDF2 derivation per file: each bag gets its own random IV under the derived key, so a
    keystore of many entries costs one key derivation rather than one per entry."""

    @sensitive_variables("password")
    def __init__(self, password: str, iterations: int) -> None:
        self.salt = os.urandom(16)
        self.iterations = iterations
        self._key = PBKDF2HMAC(hashes.SHA256(), 32, self.salt, iterations).derive(password.encode("utf-8"))
        # Every bag's AlgorithmIdentifier is this one's DER but for its IV, the last 16 bytes: built once, as
        # asn1crypto takes milliseconds a bag to build it from its parts.
        self._algorithm_head = self._algorithm(bytes(16)).dump()[:-16]

    def __repr__(self) -> str:
        return f"<PBES2 iterations={self.iterations}>"

    def _algorithm(self, iv: bytes) -> Any:
        return algos.EncryptionAlgorithm(
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

    @sensitive_variables("plaintext", "padded")
    def _encrypt(self, plaintext: bytes) -> tuple[bytes, bytes]:
        iv = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = Cipher(algorithms.AES256(self._key), modes.CBC(iv)).encryptor()
        return iv, encryptor.update(padded) + encryptor.finalize()

    def encrypt(self, plaintext: bytes) -> tuple[Any, bytes]:
        """The AlgorithmIdentifier (asn1crypto) and the ciphertext."""
        iv, ciphertext = self._encrypt(plaintext)
        return self._algorithm(iv), ciphertext

    def encrypted_private_key_info(self, plaintext: bytes) -> bytes:
        """The DER of an EncryptedPrivateKeyInfo holding ``plaintext``."""
        iv, ciphertext = self._encrypt(plaintext)
        return _der(_SEQUENCE, self._algorithm_head, iv, _der(_OCTET_STRING, ciphertext))


def _attributes(alias: str, local_key_id: bytes) -> bytes:
    """The bag's attributes (DER): its alias as friendlyName and the localKeyId pairing key and certificate."""
    friendly_name = _der(_SEQUENCE, _FRIENDLY_NAME, _der(_SET, _der(_BMP_STRING, alias.encode("utf-16-be"))))
    key_id = _der(_SEQUENCE, _LOCAL_KEY_ID, _der(_SET, _der(_OCTET_STRING, local_key_id)))
    return _der(_SET, *sorted((friendly_name, key_id)))  # DER orders a SET OF by the elements' encodings


@sensitive_variables("password", "plaintext", "entries")
def build_pfx(entries: Sequence[PfxEntry], password: str, *, iterations: int | None = None) -> bytes:
    """One password-protected PKCS#12 file holding every entry under its alias."""
    iterations = iterations or default_iterations()
    if not password:
        raise ValueError("a PKCS#12 file needs a password")
    encryption = _Pbes2(password, iterations)
    key_bags, cert_bags = [], []
    for entry in entries:
        local_key_id = hashlib.sha1(entry.alias.lower().encode() + entry.certificate_der).digest()  # noqa: S324
        attributes = _attributes(entry.alias, local_key_id)
        plaintext = entry.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        shrouded = encryption.encrypted_private_key_info(plaintext)
        key_bags.append(_der(_SEQUENCE, _KEY_BAG, _der(_EXPLICIT_0, shrouded), attributes))
        cert_bag = _der(_SEQUENCE, _X509_CERTIFICATE, _der(_EXPLICIT_0, _der(_OCTET_STRING, entry.certificate_der)))
        cert_bags.append(_der(_SEQUENCE, _CERT_BAG, _der(_EXPLICIT_0, cert_bag), attributes))
    cert_algorithm, cert_ciphertext = encryption.encrypt(_der(_SEQUENCE, *cert_bags))
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
            {"content_type": "data", "content": _der(_SEQUENCE, *key_bags)},
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
    algorithm, ciphertext = _Pbes2(password, iterations or default_iterations()).encrypt(plaintext)
    info = keys.EncryptedPrivateKeyInfo({"encryption_algorithm": algorithm, "encrypted_data": ciphertext})
    return bytes(pem.armor("ENCRYPTED PRIVATE KEY", info.dump()))
