"""What may encrypt new recordings now: a certificate within its validity period that chains, now, to one of its
tenant's current root CAs (a root may have gone since upload). IVR profiles and the screen-recording list both
assign through these rules, and both show their refusals in these words."""

from collections.abc import Sequence
from datetime import UTC, datetime

from django.utils import timezone

from .models import Certificate, RootCA
from .status import EXPIRED, NOT_YET_VALID
from .x509.chain import ChainResult, verify_chain
from .x509.parsing import CertificateError, parse_certificate


def utc_text(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def tenant_roots(tenant_id: object) -> list[bytes]:
    """The tenant's current root CAs (DER), read once for a page that checks many certificates."""
    return RootCA.objects.ders_of(tenant_id)


def chain_now(
    certificate: Certificate, at: datetime | None = None, *, roots: Sequence[bytes] | None = None
) -> ChainResult:
    """The chain check again, now (or at ``at``), against the tenant's current root CAs: every use of a certificate
    asks, because a root CA may have been removed since upload. ``roots``: from ``tenant_roots``, when checking many
    certificates of one tenant."""
    at = at or timezone.now()
    if roots is None:
        roots = tenant_roots(certificate.tenant_id)
    try:
        return verify_chain(parse_certificate(certificate.certificate_der), roots, at=at)
    except CertificateError as error:
        return ChainResult(False, str(error))


def recording_refusal(
    certificate: Certificate, at: datetime | None = None, *, roots: Sequence[bytes] | None = None
) -> str | None:
    """Why ``certificate`` cannot encrypt new recordings now, or None if it can."""
    at = at or timezone.now()
    alias = certificate.alias
    if certificate.archived_at is not None:
        return f"'{alias}' was deleted (it is in the archive); restore it before using it for recording."
    status = certificate.status(at)
    if status == EXPIRED:
        return f"'{alias}' expired on {utc_text(certificate.not_valid_after)}; it can no longer be used for recording."
    if status == NOT_YET_VALID:
        return (
            f"'{alias}' is not valid until {utc_text(certificate.not_valid_before)}; "
            "it cannot be used for recording before then."
        )
    chain = chain_now(certificate, at, roots=roots)
    if not chain.ok:
        return f"'{alias}' fails chain validation: {chain.reason}"
    return None


def certificate_pem(certificate: Certificate) -> str:
    try:
        return parse_certificate(certificate.certificate_der).pem
    except CertificateError:  # stored by this portal, so readable; never fail a whole page for one
        return ""
