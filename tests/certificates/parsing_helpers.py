"""Helpers shared by the certificate parser tests."""

from datetime import UTC, datetime
from functools import cache

import pytest
from cryptography import x509

from certificates.x509.parsing import CertificateError, parse_certificate

from . import pki


def rejected(data: bytes, **kwargs: int) -> str:
    with pytest.raises(CertificateError) as caught:
        parse_certificate(data, **kwargs)
    return str(caught.value)


@cache
def _ca() -> tuple[x509.Certificate, pki.CertificateIssuerPrivateKeyTypes]:
    return pki.make_ca()


def now() -> datetime:
    """Read at each check: test certificates start a minute in the past, so a module-level clock goes stale on
    long runs."""
    return datetime.now(UTC)
