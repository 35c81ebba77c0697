"""Keys, certificates and stored entries for the keystore tests, made at test time."""

import base64
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import algos as asn1_algos  # type: ignore[import-untyped]
from asn1crypto import core as asn1_core
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

from keystore import api, pfx
from tests.certificates import pki

PASSWORD_FOR_FILES = "file password 1234"


def rsa_key(index: int = 0, bits: int = 2048) -> rsa.RSAPrivateKey:
    """The shared test key ``index`` (see ``pki.make_key``)."""
    return pki.make_key(bits, index)


def certificate(
    key: CertificateIssuerPrivateKeyTypes, cn: str = "Genesys Recording", *, days: int = 365, expired: bool = False
) -> x509.Certificate:
    """Self-signed for ``key``: valid now, or ``expired`` a month ago."""
    start = datetime.now(UTC) - (timedelta(days=days + 30) if expired else timedelta(minutes=1))
    cert, _ = pki.make_self_signed(
        key, cn, days, not_before=start, extra_subject=((NameOID.ORGANIZATION_NAME, "Genesys"),)
    )
    return cert


def der(cert: x509.Certificate) -> bytes:
    return pki.der(cert)


def store(tenant, alias: str, index: int = 0, *, expired: bool = False):
    """A stored entry with a fresh certificate for key ``index``; returns (entry, key, certificate)."""
    key = rsa_key(index)
    cert = certificate(key, f"{alias} recording", expired=expired)
    entry = api.store_private_key(tenant, alias=alias, certificate_der=der(cert), private_key=key)
    return entry, key, cert


def store_key_file(tenant, *, alias: str, certificate_der: bytes, key_data: bytes, password: str | None):
    """A key file stored as the upload stores it: opened once, then sealed."""
    return api.store(tenant, alias=alias, certificate_der=certificate_der, key=api.open_key_file(key_data, password))


def pkcs8_der(key: rsa.RSAPrivateKey) -> bytes:
    return pki.key_der_pkcs8(key)


def secret_forms(key: rsa.RSAPrivateKey) -> dict[str, bytes]:
    """Every spelling of a private key we scan for: DER (PKCS#1 and PKCS#8), base64 and hex of it, the private
    exponent and primes in hex and decimal. Windows are taken from the private tail of the DER (primes and CRT
    values): the modulus at its head is public and rightly appears in the certificate."""
    numbers = key.private_numbers()
    pkcs1 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    pkcs8 = pkcs8_der(key)
    forms = {
        "pkcs8 der": pkcs8,
        "pkcs1 der": pkcs1,
        "pkcs8 base64": base64.b64encode(pkcs8)[-400:-300],
        "pkcs1 base64": base64.b64encode(pkcs1)[-400:-300],
        "pkcs8 hex": pkcs8.hex().encode()[-600:-400],
        "pkcs8 HEX": pkcs8.hex().upper().encode()[-600:-400],
        "d hex": format(numbers.d, "x").encode()[:64],
        "d HEX": format(numbers.d, "X").encode()[:64],
        "d decimal": str(numbers.d).encode()[:64],
        "p decimal": str(numbers.p).encode()[:64],
        "d bytes": numbers.d.to_bytes(256, "big")[8:40],
        "p bytes": numbers.p.to_bytes(128, "big")[8:40],
    }
    return forms


def portal_pkcs12(keys: list[tuple[rsa.RSAPrivateKey, bytes]], password: str, *, iterations: int) -> bytes:
    """A PKCS#12 file as the portal writes its backups, of (key, certificate DER) pairs under the aliases
    recording-0, recording-1, ..., at ``iterations`` rounds."""
    entries = [pfx.PfxEntry(f"recording-{i}", der, key) for i, (key, der) in enumerate(keys)]
    return pfx.build_pfx(entries, password, iterations=iterations)


def openssl(*args: str, input: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], input=input, capture_output=True, cwd=cwd, timeout=120)


def keytool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["keytool", *args], capture_output=True, timeout=120)


def keytool_entries(path: Path, password: str) -> dict[str, str]:
    """alias -> entry type ("PrivateKeyEntry", ...), as the JDK's keytool lists a PKCS#12 file."""
    listed = keytool("-list", "-v", "-storetype", "PKCS12", "-keystore", str(path), "-storepass", password)
    output = listed.stdout.decode(errors="replace")
    assert listed.returncode == 0, output + listed.stderr.decode(errors="replace")
    return dict(re.findall(r"^Alias name: (\S+)\nCreation date: .*\nEntry type: (\w+)", output, re.M))


def spy_on_derivations(monkeypatch) -> dict[str, list[int]]:
    """Every key derivation from a password, by kind, with the work (iterations, or N·r·p for scrypt) each asked:
    the keystore's own (PBKDF2, scrypt, the RFC 7292 KDF) and cryptography's key loaders given a password."""
    from cryptography.hazmat.primitives.kdf import pbkdf2, scrypt

    from keystore import kdf, pkcs12_kdf

    calls: dict[str, list[int]] = {"pbkdf2": [], "scrypt": [], "pkcs12": [], "loader": []}

    def counting_pbkdf2(algorithm, length, salt, iterations, *args, **kwargs):
        calls["pbkdf2"].append(iterations)
        return pbkdf2.PBKDF2HMAC(algorithm, length, salt, iterations, *args, **kwargs)

    def counting_scrypt(salt, length, n, r, p, *args, **kwargs):
        calls["scrypt"].append(n * r * p)
        return scrypt.Scrypt(salt, length, n, r, p, *args, **kwargs)

    real_pkcs12 = pkcs12_kdf.pkcs12_kdf

    def counting_pkcs12(hash_name, password, salt, purpose, iterations, length):
        calls["pkcs12"].append(iterations)
        return real_pkcs12(hash_name, password, salt, purpose, iterations, length)

    monkeypatch.setattr(kdf, "PBKDF2HMAC", counting_pbkdf2)
    monkeypatch.setattr(kdf, "Scrypt", counting_scrypt)
    monkeypatch.setattr(pkcs12_kdf, "pkcs12_kdf", counting_pkcs12)
    for name in ("load_pem_private_key", "load_der_private_key"):
        real = getattr(serialization, name)

        def counting(data, password, *args, _real=real, **kwargs):
            if password is not None:
                calls["loader"].append(1)
            return _real(data, password, *args, **kwargs)

        monkeypatch.setattr(serialization, name, counting)
    return calls


# Encrypted PKCS#8 files asking for other derivations --------------------------------------------------------------


class ScryptParams(asn1_core.Sequence):
    """RFC 7914 section 7.1."""

    _fields = [
        ("salt", asn1_core.OctetString),
        ("cost_parameter", asn1_core.Integer),
        ("block_size", asn1_core.Integer),
        ("parallelization_parameter", asn1_core.Integer),
        ("key_length", asn1_core.Integer, {"optional": True}),
    ]


def rewritten(data: bytes, change) -> bytes:
    """The same encrypted key with its AlgorithmIdentifier changed (the ciphertext no longer matters: the file must
    be refused before anything is derived)."""
    is_pem = data.startswith(b"-----")
    info = asn1_keys.EncryptedPrivateKeyInfo.load(asn1_pem.unarmor(data)[2] if is_pem else data)
    der = asn1_keys.EncryptedPrivateKeyInfo(
        {"encryption_algorithm": change(info["encryption_algorithm"]), "encrypted_data": info["encrypted_data"].native}
    ).dump()
    return asn1_pem.armor("ENCRYPTED PRIVATE KEY", der) if is_pem else der


def pbes2(algorithm, key_derivation_func):
    scheme = algorithm["parameters"]["encryption_scheme"]
    return asn1_algos.EncryptionAlgorithm(
        {"algorithm": "pbes2", "parameters": {"key_derivation_func": key_derivation_func, "encryption_scheme": scheme}}
    )


def pbkdf2_iterations(count: int):
    def change(algorithm):
        params = algorithm["parameters"]["key_derivation_func"]["parameters"]
        return pbes2(
            algorithm,
            {
                "algorithm": "pbkdf2",
                "parameters": {"salt": params["salt"], "iteration_count": count, "prf": params["prf"]},
            },
        )

    return change


def scrypt_cost(n: int, r: int, p: int):
    def change(algorithm):
        old = algorithm["parameters"]["key_derivation_func"]["parameters"].parse(ScryptParams)
        params = {"salt": old["salt"].native, "cost_parameter": n, "block_size": r, "parallelization_parameter": p}
        return pbes2(algorithm, {"algorithm": "1.3.6.1.4.1.11591.4.11", "parameters": ScryptParams(params)})

    return change


def pbe_iterations(count: int):
    def change(algorithm):
        salt = algorithm["parameters"]["salt"].native
        return asn1_algos.EncryptionAlgorithm(
            {"algorithm": algorithm["algorithm"].native, "parameters": {"salt": salt, "iterations": count}}
        )

    return change
