"""Reading: every key of a file keytool or OpenSSL wrote, within one budget for the whole file."""

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from asn1crypto import pkcs12 as asn1_pkcs12  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from django.views.decorators.debug import sensitive_variables

from .. import kdf, restore_budget
from ..keyfiles import MAX_RSA_BITS, check_consistent
from ..pkcs12_kdf import MAC_HASHES
from .contents import MAX_PFX_BYTES, PfxContents, PfxError, PfxKey

_DAMAGED = "The file is damaged or is not a PKCS#12 keystore (.p12 or .pfx)."
_WRONG_PASSWORD = "The keystore password is wrong, or the file was altered."
_WHAT = "The file"
_REEXPORT = "Export it again with the default settings of keytool or OpenSSL."
_MAX_NESTING = 8  # SafeContents inside SafeContents: keytool and OpenSSL write none


class PfxTooLarge(PfxError):
    """The file asks for more work than the budget of this restore; a larger budget may read it."""


@contextmanager
def _walking() -> Iterator[None]:
    """Reading the file's structure: a file over budget is ``PfxTooLarge``, a malformed one the damaged-file
    message (asn1crypto parses lazily, so damage surfaces as any of these while the bags are walked)."""
    try:
        yield
    except restore_budget.OverBudget as refused:
        raise PfxTooLarge(str(refused)) from None
    except PfxError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError):
        raise PfxError(_DAMAGED) from None


def _parse(data: bytes) -> tuple[Any, list[Any]]:
    if not data:
        raise PfxError("The file is empty.")
    if len(data) > MAX_PFX_BYTES:
        raise PfxError("The file is larger than 16 MB; a keystore backup is far smaller.")
    with _walking():
        pfx = asn1_pkcs12.Pfx.load(data)
        pfx.native  # noqa: B018 - parses the whole structure now, so damage is found before anything is decrypted
        if pfx["auth_safe"]["content_type"].native != "data":
            raise PfxError("This PKCS#12 file is protected with a public key, not a password; it cannot be read here.")
        safes = list(pfx.authenticated_safe)
    return pfx, safes


def _mac_derivation(pfx: Any) -> kdf.Derivation:
    mac_data = pfx["mac_data"]
    if not mac_data:
        raise PfxError("The file has no password integrity check; export it again with a password.")
    hash_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    if hash_name not in MAC_HASHES:
        raise PfxError(f"The file's integrity check uses {hash_name}, which this portal does not support.")
    return kdf.mac_derivation(MAC_HASHES[hash_name], mac_data["mac_salt"].native, mac_data["iterations"].native)


@sensitive_variables("mac_key")
def _verify_mac(pfx: Any, derivation: kdf.Derivation, deriver: restore_budget.Deriver) -> None:
    mac_key = deriver.key(derivation)
    content = pfx["auth_safe"]["content"].native
    expected = hmac.new(mac_key, content, derivation.hash_name).digest()
    if not hmac.compare_digest(expected, pfx["mac_data"]["mac"]["digest"].native):
        raise PfxError(_WRONG_PASSWORD)


class _Walk:
    """The bags of one file, counted against the budget as they are found."""

    def __init__(self, deriver: restore_budget.Deriver) -> None:
        self.deriver = deriver
        self.count = 0
        self.key_bags: list[Any] = []
        self.cert_bags: list[Any] = []

    def add(self, safe_contents: Any, depth: int = 0) -> list[Any]:
        """Walk one SafeContents; the shrouded key bags found in it, to be reserved and decrypted."""
        shrouded = []
        for bag in safe_contents:
            self.count += 1
            self.deriver.count_items(self.count)
            kind = bag["bag_id"].native
            if kind == "safe_contents":
                if depth >= _MAX_NESTING:
                    raise PfxError(_DAMAGED)
                shrouded += self.add(bag["bag_value"].untag(), depth + 1)
            elif kind in ("key_bag", "pkcs8_shrouded_key_bag"):
                self.key_bags.append(bag)
                if kind == "pkcs8_shrouded_key_bag":
                    shrouded.append(bag)
            elif kind == "cert_bag":
                self.cert_bags.append(bag)
        return shrouded


def _encryption(algorithm: Any) -> kdf.Encryption:
    try:
        encryption = kdf.encryption_of(algorithm)
    except kdf.DerivationError as refused:
        raise PfxError(str(refused)) from None
    if not encryption.decryptable:
        raise PfxError("The file is encrypted with a cipher this portal does not support.")
    return encryption


def _reserve(
    deriver: restore_budget.Deriver, items: list[tuple[kdf.Encryption, bytes]], extra: list[kdf.Derivation]
) -> None:
    """Everything these items will cost, refused as a whole before any of it is derived or decrypted."""
    try:
        deriver.reserve(
            [*extra, *(encryption.derivation for encryption, _ in items)],
            extra_rounds=sum(encryption.work(len(ciphertext)) for encryption, ciphertext in items),
        )
    except kdf.TooCostly as refused:
        raise PfxError(f"{refused} {_REEXPORT}") from None
    except restore_budget.OverBudget as refused:
        raise PfxTooLarge(str(refused)) from None


def _shrouded(bags: list[Any]) -> list[tuple[kdf.Encryption, bytes]]:
    return [
        (_encryption(bag["bag_value"]["encryption_algorithm"]), bag["bag_value"]["encrypted_data"].native)
        for bag in bags
    ]


@sensitive_variables("plaintext")
def _decrypt(deriver: restore_budget.Deriver, encryption: kdf.Encryption, ciphertext: bytes) -> bytes:
    try:
        return deriver.decrypt(encryption, ciphertext)
    except kdf.DerivationError:
        raise PfxError(
            "A part of the file could not be decrypted: it is damaged or uses a cipher this portal does not support."
        ) from None


@sensitive_variables("password", "plaintext", "private_key", "deriver")
def read_pfx(data: bytes, password: str, *, budget: restore_budget.Budget | None = None) -> PfxContents:
    """Every private key in the file with its certificate, and the certificates that have no key.

    Nothing is derived before the whole file's cost is known to fit ``budget`` (``PfxTooLarge`` otherwise): the MAC,
    each encrypted SafeContents and each shrouded key bag outside them; the bags inside an encrypted SafeContents are
    counted and reserved when it is opened, before they are decrypted. Items that share one derivation (the portal's
    own backups: one salt for the file) cost one. The budget is a web request's unless told otherwise.
    """
    pfx, safes = _parse(data)
    deriver = restore_budget.Deriver(password, budget or restore_budget.WEB_RESTORE, _WHAT)
    walk = _Walk(deriver)
    encrypted_safes: list[tuple[kdf.Encryption, bytes]] = []
    with _walking():
        for safe in safes:
            kind = safe["content_type"].native
            if kind == "data":
                walk.add(asn1_pkcs12.SafeContents.load(safe["content"].native))
            elif kind == "encrypted_data":
                info = safe["content"]["encrypted_content_info"]
                encrypted_safes.append(
                    (_encryption(info["content_encryption_algorithm"]), info["encrypted_content"].native or b"")
                )
            else:
                raise PfxError("This PKCS#12 file encrypts its contents for a public key; it cannot be read here.")
        shrouded_items = _shrouded([bag for bag in walk.key_bags if bag["bag_id"].native == "pkcs8_shrouded_key_bag"])
    mac = _mac_derivation(pfx)
    _reserve(deriver, [*encrypted_safes, *shrouded_items], [mac])

    _verify_mac(pfx, mac, deriver)
    for encryption, ciphertext in encrypted_safes:
        plaintext = _decrypt(deriver, encryption, ciphertext)
        with _walking():
            inner = walk.add(asn1_pkcs12.SafeContents.load(plaintext))
            inner_items = _shrouded(inner)
        _reserve(deriver, inner_items, [])
        shrouded_items += inner_items

    certificates = _certificates(walk.cert_bags)
    decrypted = iter(shrouded_items)
    found: list[tuple[str | None, PrivateKeyTypes]] = []
    for bag in walk.key_bags:
        if bag["bag_id"].native == "key_bag":
            body = bag["bag_value"].untag().dump()
        else:
            body = _decrypt(deriver, *next(decrypted))
        found.append((_bag_attribute(bag, "friendly_name"), _load_key(body, deriver)))
    return replace(_pair(found, certificates), derivations=deriver.derived)


@sensitive_variables("body", "private_key")
def _load_key(body: bytes, deriver: restore_budget.Deriver) -> PrivateKeyTypes:
    try:
        # OpenSSL's own RSA check is slow (primality tests, ~40 ms a key); check_consistent does the useful part.
        private_key = serialization.load_der_private_key(body, password=None, unsafe_skip_rsa_key_validation=True)
        # A key over the size limit is not checked here: the restore skips it, saying why.
        if isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size <= MAX_RSA_BITS:
            deriver.count_key_check(private_key.key_size)
            check_consistent(private_key)
    except restore_budget.OverBudget as refused:
        raise PfxTooLarge(str(refused)) from None
    except (ValueError, TypeError):
        raise PfxError(
            "A private key in the file could not be read: it is damaged or of a kind this portal does not support."
        ) from None
    except Exception as exc:  # cryptography's UnsupportedAlgorithm and kin
        raise PfxError(f"A private key in the file cannot be read: {type(exc).__name__}.") from None
    return private_key


def _certificates(bags: list[Any]) -> list[tuple[x509.Certificate, bytes | None]]:
    found = []
    for bag in bags:
        value = bag["bag_value"]
        if value["cert_id"].native != "x509":
            continue
        try:
            certificate = x509.load_der_x509_certificate(value["cert_value"].parsed.dump())
        except (ValueError, TypeError, KeyError):
            raise PfxError("A certificate in the file is damaged.") from None
        name = _bag_attribute(bag, "friendly_name")
        found.append((certificate, name.encode("utf-8") if name is not None else None))
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


@sensitive_variables("found")
def _pair(
    found: list[tuple[str | None, PrivateKeyTypes]], certificates: list[tuple[x509.Certificate, bytes | None]]
) -> PfxContents:
    result, used = [], set()
    by_public_key: dict[bytes, list[int]] = {}  # one lookup a key: a file of thousands pairs in linear time
    for i, (certificate, _) in enumerate(certificates):
        by_public_key.setdefault(_public_der(certificate), []).append(i)
    for index, (friendly_name, private_key) in enumerate(found, start=1):
        candidates = list(by_public_key.get(_public_der(private_key), []))
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
