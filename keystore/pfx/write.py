"""Writing: every entry in one file, one PBKDF2 derivation for all of them."""

import hashlib
import os
from collections.abc import Sequence
from typing import Any

from asn1crypto import algos, cms, keys, pem  # type: ignore[import-untyped]
from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.views.decorators.debug import sensitive_variables

from ..pkcs12_kdf import pfx_mac
from .contents import PfxEntry


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


def _iterations(asked: int | None) -> int:
    """``asked``, else the package's ``ITERATIONS``, read when called so that setting ``keystore.pfx.ITERATIONS``
    (the tests lower it) is heard here."""
    from keystore import pfx

    return asked or pfx.ITERATIONS


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
    iterations = _iterations(iterations)
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
    algorithm, ciphertext = _Pbes2(password, _iterations(iterations)).encrypt(plaintext)
    info = keys.EncryptedPrivateKeyInfo({"encryption_algorithm": algorithm, "encrypted_data": ciphertext})
    return bytes(pem.armor("ENCRYPTED PRIVATE KEY", info.dump()))
