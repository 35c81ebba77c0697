"""certificates.x509.chain.verify_chain and parsing.status_at: is a certificate signed by a trusted root, and is it
valid at a given time. Pure tests, no database."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from certificates.x509.chain import ChainResult, verify_chain
from certificates.x509.parsing import ParsedCertificate, parse_certificate, status_at

from . import pki
from .parsing_helpers import _ca, now

# --- Chain ---------------------------------------------------------------------------------------------------------


def test_self_signed_needs_no_roots(recording: tuple[x509.Certificate, ParsedCertificate]) -> None:
    _, parsed = recording
    assert verify_chain(parsed, [], at=now()) == ChainResult(True, "Self-signed certificate; signature verified.")


@pytest.mark.parametrize("encode", [pki.pem, pki.der], ids=["pem-root", "der-root"])
def test_issued_by_a_trusted_root(encode: Callable[[x509.Certificate], bytes]) -> None:
    ca_cert, ca_key = _ca()
    parsed = parse_certificate(pki.pem(pki.issue(ca_cert, ca_key)[0]))
    assert not parsed.is_self_signed
    assert parsed.issuer_dn == "CN=Acme Root CA,O=Acme"
    roots = [b"not a certificate", pki.pem(pki.make_self_signed()[0]), encode(ca_cert)]
    assert verify_chain(parsed, roots, at=now()) == ChainResult(True, "Issued by trusted root CA 'Acme Root CA'.")


def test_issued_by_an_untrusted_ca() -> None:
    ca_cert, ca_key = _ca()
    other_root, _ = pki.make_ca(cn="Other Root", key=pki.make_key(2048, 3))
    parsed = parse_certificate(pki.pem(pki.issue(ca_cert, ca_key)[0]))
    assert verify_chain(parsed, [pki.pem(other_root)], at=now()) == ChainResult(
        False, "Issuer 'CN=Acme Root CA,O=Acme' is not one of this tenant's trusted root CAs."
    )
    assert not verify_chain(parsed, [], at=now()).ok


def test_same_name_root_with_another_key() -> None:
    ca_cert, ca_key = _ca()
    impostor, _ = pki.make_ca(key=pki.make_key(2048, 3))  # same name "Acme Root CA", different key
    parsed = parse_certificate(pki.pem(pki.issue(ca_cert, ca_key)[0]))
    assert verify_chain(parsed, [pki.pem(impostor)], at=now()) == ChainResult(
        False, "The certificate's signature does not verify with the root CA 'Acme Root CA' key."
    )
    assert verify_chain(parsed, [pki.pem(impostor), pki.pem(ca_cert)], at=now()).ok


def test_tampered_signature_is_refused() -> None:
    ca_cert, ca_key = _ca()
    issued = parse_certificate(pki.tamper_signature(pki.issue(ca_cert, ca_key)[0]))
    assert verify_chain(issued, [pki.pem(ca_cert)], at=now()) == ChainResult(
        False, "The certificate's signature does not verify with the root CA 'Acme Root CA' key."
    )
    self_signed = parse_certificate(pki.tamper_signature(pki.make_self_signed()[0]))
    assert not self_signed.is_self_signed
    assert verify_chain(self_signed, [], at=now()) == ChainResult(
        False, "The certificate's signature does not verify with its own key."
    )


def test_root_validity_is_checked() -> None:
    start = datetime(2015, 1, 1, tzinfo=UTC)
    old_root, old_key = pki.make_ca(not_before=start, not_after=datetime(2025, 1, 1, tzinfo=UTC))
    parsed = parse_certificate(pki.pem(pki.issue(old_root, old_key, not_before=start, days=3650)[0]))

    assert verify_chain(parsed, [pki.pem(old_root)], at=datetime(2026, 6, 1, tzinfo=UTC)) == ChainResult(
        False, "Root CA 'Acme Root CA' expired on 2025-01-01."
    )
    assert verify_chain(parsed, [pki.pem(old_root)], at=datetime(2014, 6, 1, tzinfo=UTC)) == ChainResult(
        False, "Root CA 'Acme Root CA' is not valid until 2015-01-01."
    )
    assert verify_chain(parsed, [pki.pem(old_root)], at=datetime(2020, 6, 1, tzinfo=UTC)).ok


def test_root_without_certificate_sign_is_refused() -> None:
    root, root_key = pki.make_ca(usage=pki.key_usage(crl_sign=True))
    parsed = parse_certificate(pki.pem(pki.issue(root, root_key)[0]))
    assert verify_chain(parsed, [pki.pem(root)], at=now()) == ChainResult(
        False, "Root CA 'Acme Root CA' may not sign certificates: its Key Usage lacks Certificate Sign."
    )


# --- Validity -------------------------------------------------------------------------------------------------------


def test_status_boundaries_are_inclusive() -> None:
    start = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    end = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    parsed = parse_certificate(pki.pem(pki.make_self_signed(not_before=start, not_after=end)[0]))
    second = timedelta(seconds=1)

    assert status_at(parsed, start - second) == "not-yet-valid"
    assert status_at(parsed, start) == "valid"
    assert status_at(parsed, end) == "valid"
    assert status_at(parsed, end + second) == "expired"
