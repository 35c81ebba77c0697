"""Reading a loaded certificate's fields: the one place where what ``cryptography`` raises on hostile input becomes
a ``CertificateError`` whose message names the field.

``cryptography`` checks the outline of a certificate when loading it and reads most fields (names, extensions, the
key) only when asked, so a certificate that loads may still fail field by field. Every such read goes through
``read_field``.
"""

from collections.abc import Callable
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from .der import extensions_apart, leading_oid, with_extensions
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
