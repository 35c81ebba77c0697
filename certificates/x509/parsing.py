"""Read an uploaded recording certificate (or root CA) and describe it in the words the UI shows.

Plain functions over ``cryptography``, no Django. The contract: any input bytes produce either a
``ParsedCertificate`` or a ``CertificateError`` whose message says, in one sentence, what the file is instead.
Nothing technical (ASN.1 offsets, library messages) ever reaches that message.

Sniffing DER shapes lives in ``der``, the wording of names, keys and extensions in ``words``, reading fields despite
hostile input in ``reading`` and the rules a new certificate must meet in ``acceptance``; whether a certificate is
trusted is ``chain``'s business.
"""

import base64
import binascii
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID, PublicKeyAlgorithmOID

from .acceptance import check_critical_extensions, check_java_loads, check_validity_order, exponent_problem
from .der import inner_signature_oid, looks_like_pkcs7, looks_like_pkcs12, rsa_numbers, serial_content, split_der
from .reading import CertificateError, damaged_field, read_extensions, read_field, unreadable
from .words import (
    colon_hex,
    describe_extension,
    dn,
    escape_controls,
    key_words,
    serial_hex,
    signature_algorithm_name,
)

__all__ = [
    "CertificateError",
    "CertificateStatus",
    "ParsedCertificate",
    "parse_certificate",
    "parse_root_ca",
    "status_at",
]

DEFAULT_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class ParsedCertificate:
    der: bytes
    pem: str
    subject_name: str  # the first CN, else the subject DN
    serial_number: int
    subject_dn: str
    issuer_dn: str
    not_valid_before: datetime  # aware, UTC
    not_valid_after: datetime  # aware, UTC
    sha256_fingerprint: str  # "AB:CD:..."
    key_type: str  # always "RSA" today: other key types are refused
    key_size: int
    signature_algorithm: str  # openssl's name, e.g. "sha256WithRSAEncryption", else the dotted OID
    is_self_signed: bool  # subject == issuer and the signature verifies with the certificate's own key
    extensions: tuple[tuple[str, str], ...]  # (name, value) in words, in certificate order
    suggested_alias: str
    serial_hex: str  # upper-case hex as ``openssl x509 -noout -serial`` prints it, e.g. "7E7ED21C...", "01"


MSG_EMPTY = "The file is empty."
MSG_NEITHER = "The file is not a certificate: it is neither PEM nor DER."
MSG_DAMAGED = "The certificate is damaged or truncated; export it again and upload the new file."
MSG_BAD_BASE64 = "The certificate's PEM block is damaged: its base64 text is invalid."
MSG_INCOMPLETE_PEM = "The certificate's PEM block is incomplete: the -----END CERTIFICATE----- line is missing."
MSG_PRIVATE_KEY = "This is a private key, not a certificate. Choose it under Key File."
MSG_KEY_AND_CERT = (
    "The file holds a private key as well as a certificate; upload the certificate alone and choose the key "
    "under Key File."
)
MSG_CSR = (
    "This is a certificate signing request (CSR), not a certificate. Have it signed or create a self-signed "
    "certificate with `openssl req -new -x509`."
)
MSG_CRL = "This is a certificate revocation list (CRL), not a certificate."
MSG_PKCS7 = (
    "This is a PKCS#7 bundle, not a single certificate. Extract the recording certificate with "
    "`openssl pkcs7 -print_certs` and upload it alone."
)
MSG_PKCS12 = (
    "This is a PKCS#12 (.pfx/.p12) bundle, not a certificate. Extract the certificate with "
    "`openssl pkcs12 -nokeys -clcerts` and upload it alone."
)
MSG_PUBLIC_KEY = (
    "This is a bare public key, not a certificate. Create a self-signed certificate with `openssl req -new -x509`."
)
MSG_SSH_KEY = "This is an SSH key, not an X.509 certificate. Create one with `openssl req -new -x509`."
MSG_TRUSTED_CERT = (
    "This is an OpenSSL TRUSTED CERTIFICATE; convert it with `openssl x509 -in FILE -out tenant.pem` and upload "
    "the result."
)
MSG_OTHER_DATA = "The file holds other data besides the certificate; upload the certificate alone."
MSG_BAD_SERIAL = "The certificate's serial number is zero or negative, which X.509 forbids; create a new certificate."
MSG_BAD_RSA_KEY = "The certificate's RSA public key is invalid: its numbers are out of range. Create a new key."

_CERT_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE"})
_LABEL_MESSAGES = {
    "CERTIFICATE REQUEST": MSG_CSR,
    "NEW CERTIFICATE REQUEST": MSG_CSR,
    "X509 CRL": MSG_CRL,
    "PKCS7": MSG_PKCS7,
    "CMS": MSG_PKCS7,
    "PUBLIC KEY": MSG_PUBLIC_KEY,
    "RSA PUBLIC KEY": MSG_PUBLIC_KEY,
    "TRUSTED CERTIFICATE": MSG_TRUSTED_CERT,
}
_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----")
_SSH_PREFIXES = (b"ssh-", b"ecdsa-sha2-", b"sk-ssh-", b"sk-ecdsa-", b"---- BEGIN SSH2 ")
_UTF8_BOM = b"\xef\xbb\xbf"
_RSA_ENCRYPTION = x509.ObjectIdentifier("1.2.840.113549.1.1.1")

CertificateStatus = Literal["not-yet-valid", "expired", "valid"]


def parse_certificate(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, min_rsa_bits: int | None = None
) -> ParsedCertificate:
    """Read one X.509 recording certificate from PEM (leading text, CRLF, BOM, UTF-16 tolerated) or DER.

    The key must be RSA, of at least ``min_rsa_bits`` when given. Raises ``CertificateError`` for anything else.
    The minimum is the keystore's rule, which this pure module cannot import: the callers that accept a new
    certificate pass it, and with it ``acceptance``'s rules apply (what Java refuses to load, dates in order, no
    critical extension Java does not recognise, an RSA exponent of at least 65537). Reading one accepted before
    leaves it out, so stored certificates keep opening if a rule is ever tightened.
    """
    return _describe(_load(data, max_bytes), min_rsa_bits)


def parse_root_ca(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, min_rsa_bits: int | None = None
) -> ParsedCertificate:
    """Like ``parse_certificate``, and the certificate must be a CA: Basic Constraints CA:true, or a self-signed v1
    certificate (v1 predates extensions, so such roots cannot say so)."""
    certificate = _load(data, max_bytes)
    parsed = _describe(certificate, min_rsa_bits)
    try:
        is_ca = read_extensions(certificate).get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = read_field("version", lambda: certificate.version) == x509.Version.v1 and parsed.is_self_signed
    if not is_ca:
        raise CertificateError(
            f"'{parsed.subject_name}' is not a CA certificate (its Basic Constraints do not say CA: true); "
            "upload the root CA that issues the recording certificates."
        )
    return parsed


def status_at(cert: ParsedCertificate, now: datetime) -> CertificateStatus:
    """Validity at ``now`` (aware), bounds inclusive as in X.509."""
    if now < cert.not_valid_before:
        return "not-yet-valid"
    if now > cert.not_valid_after:
        return "expired"
    return "valid"


# --- Recognising the file -------------------------------------------------------------------------------------------


def _load(data: bytes, max_bytes: int) -> x509.Certificate:
    if len(data) > max_bytes:
        raise CertificateError(f"The file is larger than {max_bytes // 1024} KB; a certificate is a few KB.")
    data = _as_utf8(data)
    if not data.strip():
        raise CertificateError(MSG_EMPTY)
    if b"-----BEGIN " in data:
        return _load_pem(data)
    if data.lstrip().startswith(_SSH_PREFIXES):
        raise CertificateError(MSG_SSH_KEY)
    if data.startswith(b"PuTTY-User-Key-File-"):
        raise CertificateError(MSG_PRIVATE_KEY)
    return _load_der(data, unknown=MSG_NEITHER)


def _as_utf8(data: bytes) -> bytes:
    # Windows editors save "Unicode" text as UTF-16 and prefix UTF-8 with a BOM; DER never starts with either.
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return data
    return data.removeprefix(_UTF8_BOM)


def _load_pem(data: bytes) -> x509.Certificate:
    begins = [(match, match.group(1).decode("ascii")) for match in _PEM_BEGIN.finditer(data)]
    labels = [label for _, label in begins]
    count = sum(label in _CERT_LABELS for label in labels)
    if any("PRIVATE KEY" in label for label in labels):
        raise CertificateError(MSG_KEY_AND_CERT if count else MSG_PRIVATE_KEY)
    if count > 1:
        raise CertificateError(_too_many(count))
    if not count:
        if not labels:
            raise CertificateError(MSG_NEITHER)
        raise CertificateError(
            _LABEL_MESSAGES.get(labels[0], f"The file holds a PEM '{labels[0]}' block, not a certificate.")
        )
    begin, label = next((match, label) for match, label in begins if label in _CERT_LABELS)
    # A plain find, not a regex spanning the block: linear time whatever the upload holds.
    end = data.find(b"-----END " + label.encode("ascii") + b"-----", begin.end())
    if end < 0:
        raise CertificateError(MSG_INCOMPLETE_PEM)
    try:
        der = base64.b64decode(b"".join(data[begin.end() : end].split()), validate=True)
    except binascii.Error as exc:
        raise CertificateError(MSG_BAD_BASE64) from exc
    return _load_der(der, unknown=MSG_DAMAGED)


def _load_der(data: bytes, *, unknown: str) -> x509.Certificate:
    elements = split_der(data)
    if not elements:
        raise CertificateError(MSG_DAMAGED if serial_content(data) is not None else unknown)
    certificates = [cert for cert in map(_certificate_or_none, elements) if cert is not None]
    if len(certificates) > 1:
        raise CertificateError(_too_many(len(certificates)))
    if certificates:
        if len(elements) > 1:
            raise CertificateError(MSG_OTHER_DATA)
        return certificates[0]
    raise CertificateError(_what_der_is(elements[0], unknown))


def _too_many(count: int) -> str:
    return f"The file holds {count} certificates; upload only the recording certificate (chains are not accepted)."


def _certificate_or_none(element: bytes) -> x509.Certificate | None:
    serial = serial_content(element)
    if serial is None:
        return None
    # Checked before loading: cryptography warns on such serials today and will refuse them in a later release.
    if serial and (serial[0] & 0x80 or not any(serial)):
        raise CertificateError(MSG_BAD_SERIAL)
    try:
        return read_field("structure", lambda: x509.load_der_x509_certificate(element))
    except CertificateError:
        return None


def _what_der_is(element: bytes, unknown: str) -> str:
    if looks_like_pkcs12(element):
        return MSG_PKCS12
    if looks_like_pkcs7(element):
        return MSG_PKCS7
    if _loads(x509.load_der_x509_csr, element):
        return MSG_CSR
    if _loads(x509.load_der_x509_crl, element):
        return MSG_CRL
    if _is_private_key(element):
        return MSG_PRIVATE_KEY
    if _loads(serialization.load_der_public_key, element):
        return MSG_PUBLIC_KEY
    if serial_content(element) is not None:
        field = damaged_field(element)
        return unreadable(field) if field else MSG_DAMAGED
    return unknown


def _loads(loader: Callable[[bytes], object], data: bytes) -> bool:
    try:
        read_field("structure", lambda: loader(data))
    except CertificateError:
        return False
    return True


def _is_private_key(data: bytes) -> bool:
    try:
        read_field(
            "structure",
            lambda: serialization.load_der_private_key(data, password=None, unsafe_skip_rsa_key_validation=True),
        )
    except CertificateError as error:
        return isinstance(error.__cause__, TypeError)  # an encrypted key: cryptography asks for the password
    return True


# --- Describing a loaded certificate ---------------------------------------------------------------------------------


def _describe(cert: x509.Certificate, min_rsa_bits: int | None) -> ParsedCertificate:
    """Every field through ``read_field``: cryptography reads most of them only now, and may fail on each."""
    accepting = min_rsa_bits is not None
    der = cert.public_bytes(serialization.Encoding.DER)
    key = _check_key(cert, der, min_rsa_bits)
    extensions = read_extensions(cert)
    not_before = read_field("validity dates", lambda: cert.not_valid_before_utc)
    not_after = read_field("validity dates", lambda: cert.not_valid_after_utc)
    subject, issuer = read_field("subject", lambda: cert.subject), read_field("issuer", lambda: cert.issuer)
    signature_oid = read_field("signature algorithm", lambda: cert.signature_algorithm_oid)
    if accepting:
        version = read_field("version", lambda: cert.version)
        check_java_loads(version, extensions, issuer, inner_signature_oid(der), signature_oid)
        check_validity_order(not_before, not_after)
        check_critical_extensions(extensions)
    common_names = read_field("subject", lambda: [a.value for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)])
    common_name = next((value for value in common_names if isinstance(value, str)), "")
    subject_dn = read_field("subject", lambda: dn(subject))
    serial_number = read_field("serial number", lambda: cert.serial_number)
    return ParsedCertificate(
        der=der,
        pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        subject_name=escape_controls(common_name) or subject_dn or "(no subject)",
        serial_number=serial_number,
        subject_dn=subject_dn,
        issuer_dn=read_field("issuer", lambda: dn(issuer)),
        not_valid_before=not_before,
        not_valid_after=not_after,
        sha256_fingerprint=colon_hex(cert.fingerprint(hashes.SHA256())),
        key_type="RSA",
        key_size=key.key_size,
        signature_algorithm=signature_algorithm_name(signature_oid),
        is_self_signed=_verifies(cert, cert),
        extensions=read_field("extensions", lambda: tuple(describe_extension(extension) for extension in extensions)),
        suggested_alias=alias_from_common_name(common_name),
        serial_hex=serial_hex(serial_number),
    )


def _check_key(cert: x509.Certificate, der: bytes, min_rsa_bits: int | None) -> rsa.RSAPublicKey:
    algorithm = read_field("public key", lambda: cert.public_key_algorithm_oid)
    try:
        key = read_field("public key", cert.public_key)
    except CertificateError as error:
        if algorithm == _RSA_ENCRYPTION:
            # cryptography refuses some RSA numbers outright (an even exponent): say which, from the DER itself.
            numbers = rsa_numbers(der)
            if numbers is None:
                raise
            raise CertificateError(exponent_problem(numbers[1]) or MSG_BAD_RSA_KEY) from error
        words = f"of an unsupported type ({algorithm.dotted_string})"
        raise CertificateError(_wrong_key(words, min_rsa_bits)) from error
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateError(_wrong_key(key_words(key), min_rsa_bits))
    if algorithm == PublicKeyAlgorithmOID.RSASSA_PSS:
        # An RSA-PSS key is restricted to signing; recordings are encrypted to this key.
        raise CertificateError(_wrong_key("RSA-PSS, which may only sign", min_rsa_bits))
    if min_rsa_bits is None:
        return key
    if key.key_size < min_rsa_bits:
        raise CertificateError(
            f"The certificate's RSA key is {key.key_size} bits; at least {min_rsa_bits} are required."
        )
    problem = exponent_problem(key.public_numbers().e)
    if problem:
        raise CertificateError(problem)
    return key


def _wrong_key(words: str, min_rsa_bits: int | None) -> str:
    size = f", {min_rsa_bits} bits or more" if min_rsa_bits is not None else ""
    return f"The certificate's key is {words}; recording certificates must be RSA{size}."


def _verifies(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        read_field("signature", lambda: cert.verify_directly_issued_by(issuer))
    except (InvalidSignature, CertificateError):
        return False
    return True


def alias_from_common_name(common_name: str) -> str:
    """The alias an upload proposes for a certificate named ``common_name``: lower-case ASCII, words hyphenated."""
    ascii_name = unicodedata.normalize("NFKD", common_name).encode("ascii", "ignore").decode("ascii").lower()
    alias = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9._-]", "", re.sub(r"\s+", "-", ascii_name))).strip("-._")
    # Not cut to length: the keystore's alias rule does that when it proposes an alias from this one.
    return alias or "certificate"
