"""Fixtures shared by the certificate parser tests."""

import pytest
from cryptography import x509

from certificates.x509.parsing import ParsedCertificate, parse_certificate

from . import pki


@pytest.fixture(scope="module")
def recording() -> tuple[x509.Certificate, ParsedCertificate]:
    cert, _ = pki.make_self_signed()
    return cert, parse_certificate(pki.pem(cert))
