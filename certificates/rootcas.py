"""The tenant's trusted root CAs: adding one, and what removing one would break."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from keystore.api import MIN_RSA_BITS
from portal.audit.log import Actor, record

from .models import Certificate, RootCA
from .upload import CERTIFICATE_FILE, UploadInvalid, refusal
from .x509.chain import verify_chain
from .x509.parsing import CertificateError, parse_certificate, parse_root_ca


def _already_trusted(root: RootCA) -> UploadInvalid:
    return refusal(CERTIFICATE_FILE, f"This root CA is already trusted in this tenant ('{root.subject_name}').")


def add_root_ca(tenant: Any, data: bytes, *, by: Actor) -> RootCA:
    try:
        parsed = parse_root_ca(data, min_rsa_bits=MIN_RSA_BITS)
    except CertificateError as error:
        raise refusal(CERTIFICATE_FILE, str(error)) from None
    existing = RootCA.objects.filter(tenant=tenant, sha256_fingerprint=parsed.sha256_fingerprint).first()
    if existing is not None:
        raise _already_trusted(existing)
    try:
        with transaction.atomic():
            root = RootCA.objects.create(
                tenant=tenant,
                subject_dn=parsed.subject_dn,
                subject_name=parsed.subject_name[:300],
                der=parsed.der,
                sha256_fingerprint=parsed.sha256_fingerprint,
                not_valid_after=parsed.not_valid_after,
                added_by=by.user,
            )
            record(
                "rootca-added",
                by=by,
                tenant=tenant,
                obj=root,
                details={"subject": root.subject_dn, "fingerprint": root.sha256_fingerprint},
            )
    except IntegrityError:  # added concurrently
        raise _already_trusted(
            RootCA.objects.get(tenant=tenant, sha256_fingerprint=parsed.sha256_fingerprint)
        ) from None
    return root


def certificates_stranded_by_removal(root: RootCA) -> list[Certificate]:
    """The tenant's certificates that this root CA vouches for and no other trusted root does: after removal they
    fail validation at their next use."""
    now = timezone.now()
    others = RootCA.objects.ders_of(root.tenant_id, excluding=root.pk)
    candidates = (
        Certificate.objects.filter(tenant_id=root.tenant_id, is_self_signed=False, issuer_dn=root.subject_dn)
        .active()
        .select_related("entry")
        .order_by("entry__alias")
    )
    stranded = []
    for certificate in candidates:
        parsed = parse_certificate(certificate.certificate_der)
        at = min(now, parsed.not_valid_after)
        if verify_chain(parsed, [bytes(root.der)], at=at).ok and not verify_chain(parsed, others, at=at).ok:
            stranded.append(certificate)
    return stranded


def remove_root_ca(root: RootCA, *, by: Actor) -> list[Certificate]:
    """Remove, with an audit entry naming the root and the certificates that lose their trust."""
    with transaction.atomic():
        stranded = certificates_stranded_by_removal(root)
        record(
            "rootca-removed",
            by=by,
            tenant=root.tenant,
            obj=root,
            details={
                "subject": root.subject_dn,
                "fingerprint": root.sha256_fingerprint,
                "certificates_losing_trust": [c.alias for c in stranded],
            },
        )
        root.delete()
    return stranded
