"""Helpers shared by the certificate parser tests."""

from datetime import UTC, datetime
from functools import cache

import pytest
from cryptography import x509

from certificates.x509.parsing import DEFAULT_MAX_BYTES, CertificateError, parse_certificate
from keystore.api import MIN_RSA_BITS

from . import pki


def rejected(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, min_rsa_bits: int | None = MIN_RSA_BITS) -> str:
    """The parser's message, with the keystore's minimum RSA size unless told otherwise, as the upload calls it."""
    with pytest.raises(CertificateError) as caught:
        parse_certificate(data, max_bytes=max_bytes, min_rsa_bits=min_rsa_bits)
    return str(caught.value)


@cache
def _ca() -> tuple[x509.Certificate, pki.CertificateIssuerPrivateKeyTypes]:
    return pki.make_ca()


def now() -> datetime:
    """Read at each check: test certificates start a minute in the past, so a module-level clock goes stale on
    long runs."""
    return datetime.now(UTC)
