"""Decide whether a recording certificate is trusted: self-signed, or issued directly by one of the tenant's roots.

Uploads holding chains are refused (see ``parsing``), so there is no intermediate to walk: the path is one
certificate long (self-signed) or two (root CA, then the certificate). The certificate's own dates are
``status_at``'s business; the root's are checked here, because an expired root breaks the path.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from .parsing import CertificateError, ParsedCertificate, parse_root_ca
from .reading import read_field


@dataclass(frozen=True)
class ChainResult:
    ok: bool
    reason: str  # one user-facing sentence, whichever way it went


def verify_chain(cert: ParsedCertificate, trusted_roots: Sequence[bytes], *, at: datetime) -> ChainResult:
    """Check ``cert`` (from ``parse_certificate``) against the tenant's root CAs (PEM or DER each) at ``at`` (aware)."""
    if cert.is_self_signed:
        return ChainResult(True, "Self-signed certificate; signature verified.")
    certificate = x509.load_der_x509_certificate(cert.der)
    roots = [root for root in map(_load_root, trusted_roots) if root and root[1].subject == certificate.issuer]
    if not roots:
        if certificate.subject == certificate.issuer:
            problem = _signature_problem(certificate, certificate, cert, "its own key")
            return ChainResult(problem is None, problem or "Self-signed certificate; signature verified.")
        return ChainResult(False, f"Issuer '{cert.issuer_dn}' is not one of this tenant's trusted root CAs.")
    reasons: list[str] = []
    for parsed_root, root in roots:
        problem = _signature_problem(certificate, root, cert, f"the root CA '{parsed_root.subject_name}' key")
        if problem:
            reasons.append(problem)
            continue
        problem = _root_problem(parsed_root, root, at)
        if problem is None:
            return ChainResult(True, f"Issued by trusted root CA '{parsed_root.subject_name}'.")
        # The right key on an unusable root says more than another same-named root's key mismatch.
        reasons.insert(0, problem)
    return ChainResult(False, reasons[0])


def _load_root(data: bytes) -> tuple[ParsedCertificate, x509.Certificate] | None:
    try:
        parsed = parse_root_ca(data)
    except CertificateError:
        return None  # roots are validated on upload; one that no longer parses cannot vouch for anything
    return parsed, x509.load_der_x509_certificate(parsed.der)


def _signature_problem(
    certificate: x509.Certificate, issuer: x509.Certificate, parsed: ParsedCertificate, whose_key: str
) -> str | None:
    try:
        read_field("signature", lambda: certificate.verify_directly_issued_by(issuer))
    except InvalidSignature:
        return f"The certificate's signature does not verify with {whose_key}."
    except CertificateError:
        return (
            f"The certificate's signature algorithm ({parsed.signature_algorithm}) is not supported, "
            "so its signature cannot be verified."
        )
    return None


def _root_problem(parsed_root: ParsedCertificate, root: x509.Certificate, at: datetime) -> str | None:
    name = parsed_root.subject_name
    if at > parsed_root.not_valid_after:
        return f"Root CA '{name}' expired on {parsed_root.not_valid_after:%Y-%m-%d}."
    if at < parsed_root.not_valid_before:
        return f"Root CA '{name}' is not valid until {parsed_root.not_valid_before:%Y-%m-%d}."
    try:
        usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if not usage.key_cert_sign:
        return f"Root CA '{name}' may not sign certificates: its Key Usage lacks Certificate Sign."
    return None
