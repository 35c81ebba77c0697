"""Reading a loaded certificate's fields: the one place where what ``cryptography`` raises on hostile input becomes
a ``CertificateError`` whose message names the field.

``cryptography`` checks the outline of a certificate when loading it and reads most fields (names, extensions, the
key) only when asked, so a certificate that loads may still fail field by field. Every such read goes through
``read_field``; for a certificate that does not load at all, ``damaged_field`` finds which field stops it.
"""

from collections.abc import Callable
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from .der import certificate_apart, certificate_of, extensions_apart, leading_oid, with_extensions
from .words import extension_label

T = TypeVar("T")

# Everything cryptography raises on hostile input, eagerly or from a lazy property.
LIBRARY_ERRORS = (
    ValueError,
    TypeError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)
# Looking for the one malformed extension loads the certificate once per extension: a few dozen at most.
_MAX_EXTENSIONS_SEARCHED = 64

_SHA256_WITH_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
# A well-formed stand-in for each field of a certificate, by what the message calls the field: put in place of the
# field cryptography refuses, it lets the certificate load, which is how ``damaged_field`` tells which one it was.
_STAND_INS = {
    "version": bytes.fromhex("a003020102"),
    "serial number": bytes.fromhex("020101"),
    "signature algorithm": _SHA256_WITH_RSA,
    "issuer": bytes.fromhex("3000"),
    "validity dates": bytes.fromhex("301e") + b"\x17\x0d250101000000Z\x17\x0d350101000000Z",
    "subject": bytes.fromhex("3000"),
    "public key": bytes.fromhex("3012300d06092a864886f70d0101010500030100"),
    "extensions": bytes.fromhex("a3023000"),
    "signature": bytes.fromhex("030100"),
}
_V1_FIELDS = ("serial number", "signature algorithm", "issuer", "validity dates", "subject", "public key")


class CertificateError(ValueError):
    """The file cannot be used; ``str(exc)`` is one user-facing sentence."""


def is_panic(error: BaseException) -> bool:
    """A panic in cryptography's Rust code reaches Python as ``pyo3_runtime.PanicException``: a BaseException, not an
    Exception, whose class cannot be imported, so it is known by its name."""
    kind = type(error)
    return kind.__module__ == "pyo3_runtime" and kind.__name__ == "PanicException"


def unreadable(field: str) -> str:
    return (
        f"The certificate's {field} cannot be read: it is malformed or in an encoding this portal does not support. "
        "Create a new certificate."
    )


def read_field(field: str, read: Callable[[], T]) -> T:
    """``read()``, or a CertificateError saying that ``field`` cannot be read if the library fails on it."""
    try:
        return read()
    except CertificateError:
        raise
    except LIBRARY_ERRORS as error:
        raise CertificateError(unreadable(field)) from error
    except BaseException as error:
        if not is_panic(error):
            raise  # KeyboardInterrupt, SystemExit and the like are not the certificate's fault
        raise CertificateError(unreadable(field)) from error


def read_extensions(cert: x509.Certificate) -> x509.Extensions:
    """The extensions, or a CertificateError naming the one repeated or malformed."""
    try:
        return read_field("extensions", lambda: cert.extensions)
    except CertificateError as error:
        cause = error.__cause__
    if isinstance(cause, x509.DuplicateExtension):
        label = extension_label(cause.oid)
        raise CertificateError(
            f"The certificate has the {label} extension twice; X.509 allows each extension once. "
            "Create a new certificate."
        ) from cause
    oid = _malformed_extension(cert.public_bytes(serialization.Encoding.DER))
    if oid is None:
        raise CertificateError("The certificate's extensions are malformed; create a new certificate.") from cause
    raise CertificateError(
        f"The certificate's {extension_label(oid)} extension is malformed; create a new certificate."
    ) from cause


def damaged_field(element: bytes) -> str | None:
    """Which one field of a certificate-shaped element makes cryptography refuse to load it, if one does: each
    field in turn is replaced by a well-formed stand-in, and the one whose replacement lets it load is named."""
    parts = certificate_apart(element)
    if parts is None:
        return None
    fields, rest = parts
    names = ["version", *_V1_FIELDS] if fields[0][:1] == b"\xa0" else list(_V1_FIELDS)
    if len(fields) == len(names) + 1 and fields[-1][:1] == b"\xa3":
        names.append("extensions")
    if len(fields) != len(names) or len(rest) != 2:
        return None  # fields missing, repeated or out of order: no one field to blame
    for index, name in enumerate(names):
        if _loads(certificate_of(fields[:index] + [_STAND_INS[name]] + fields[index + 1 :], rest)):
            return name
    for index, name in enumerate(("signature algorithm", "signature")):
        if _loads(certificate_of(fields, rest[:index] + [_STAND_INS[name]] + rest[index + 1 :])):
            return name
    return None


def _loads(der: bytes) -> bool:
    try:
        read_field("structure", lambda: x509.load_der_x509_certificate(der))
    except CertificateError:
        return False
    return True


def _malformed_extension(der: bytes) -> x509.ObjectIdentifier | None:
    """The first extension that cryptography cannot read in a certificate of its own, if it can be told."""
    parts = extensions_apart(der)
    if parts is None:
        return None
    before, extensions, after = parts
    for extension in extensions[:_MAX_EXTENSIONS_SEARCHED]:
        if not _extensions_readable(with_extensions(before, [extension], after)):
            return _oid(leading_oid(extension))
    return None


def _extensions_readable(der: bytes) -> bool:
    try:
        read_field("extensions", lambda: x509.load_der_x509_certificate(der).extensions)
    except CertificateError:
        return False
    return True


def _oid(dotted: str | None) -> x509.ObjectIdentifier | None:
    try:
        return x509.ObjectIdentifier(dotted) if dotted else None
    except ValueError:
        return None
