"""Certificates made in the portal: the key generated inside the keystore and sealed at once, with a self-signed
certificate of the shape `openssl req -new -x509` gives (or, for a CA, a request: see ``requests``). What is asked
for is checked first, each bad field with its own message, so nothing is generated for a request that will fail.
"""

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from keystore.api import (
    DEFAULT_GENERATED_BITS,
    GENERATED_RSA_BITS,
    OPENSSL_REQ,
    AliasError,
    KeystoreError,
    SelfSigned,
    generate_key,
    propose_alias,
)
from portal.audit.log import Actor, record

from . import followups
from .models import Certificate, CertificateRequest
from .subject import SubjectFields, check_subject
from .upload import (
    ALIAS,
    UploadInvalid,
    UploadProblem,
    check_alias,
    check_parsed_certificate,
    create_certificate,
    parse_recording_certificate,
    refusal,
)
from .x509.parsing import alias_from_common_name

DAYS = "days"
KEYSTORE = "keystore"  # a problem of no field: the pages show it above the form
BITS = "bits"
MIN_DAYS = 1
MAX_DAYS = 9125  # 25 years
DEFAULT_DAYS = 3650  # the recording guide's example
DEFAULT_BITS = DEFAULT_GENERATED_BITS


@dataclass(frozen=True)
class NewKey:
    """A checked request for a key and its certificate; ``days`` is None when a CA sets the validity."""

    subject: SubjectFields
    bits: int
    days: int | None
    alias: str  # "" to propose one from the Common Name


@dataclass
class Outcome:
    """What a generation, request, reply or renewal made, and notes from its follow-ups."""

    certificate: Certificate | None = None
    waiting: CertificateRequest | None = None
    notes: list[str] = field(default_factory=list)


def _whole_number(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value or "").strip().replace(",", "")
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _check_days(value: object) -> int:
    days = _whole_number(value)
    if days is None or not MIN_DAYS <= days <= MAX_DAYS:
        shown = str(value).strip()[:20] or "nothing"
        raise refusal(DAYS, f"The validity is 1 to 9,125 days (25 years); {shown} is outside that.")
    return days


def _check_bits(value: object) -> int:
    bits = _whole_number(DEFAULT_BITS if value in (None, "") else value)
    if bits not in GENERATED_RSA_BITS:
        shown = str(value).strip()[:20]
        raise refusal(BITS, f"Keys are RSA 2048, 3072 or 4096 bits; {shown} is not one of them.")
    return bits


def check_new_key(
    tenant: Any,
    *,
    subject: Mapping[str, object] | SubjectFields,
    bits: object = None,
    days: object = None,
    alias: str = "",
    needs_days: bool = True,
) -> NewKey:
    """Every field checked, all problems reported together (``UploadInvalid``, one per field)."""
    problems: list[UploadProblem] = []
    values = subject.as_initial() if isinstance(subject, SubjectFields) else subject
    steps: list[tuple[str, Any]] = [
        ("subject", lambda: check_subject(values)),
        ("bits", lambda: _check_bits(bits)),
    ]
    if needs_days:
        steps.append(("days", lambda: _check_days(days)))
    if alias.strip():
        steps.append(("alias", lambda: check_alias(tenant, alias.strip())))
    results: dict[str, Any] = {}
    for name, step in steps:
        try:
            results[name] = step()
        except UploadInvalid as invalid:
            problems += invalid.problems
    if problems:
        raise UploadInvalid(problems)
    return NewKey(results["subject"], results["bits"], results.get("days"), results.get("alias", ""))


def alias_for(tenant: Any, new: NewKey) -> str:
    """The alias asked for, else the one an upload of the certificate would propose, unique in the tenant."""
    if new.alias:
        return new.alias
    return propose_alias(tenant, alias_from_common_name(new.subject.common_name)).alias


def _generate(tenant: Any, new: NewKey, *, by: Actor, renews: Certificate | None) -> Certificate:
    """Inside the caller's transaction."""
    assert new.days is not None
    now = timezone.now().replace(microsecond=0)
    profile = SelfSigned(new.subject.name(), now, now + timedelta(days=new.days), style=OPENSSL_REQ)
    entry = generate_key(tenant, alias=alias_for(tenant, new), bits=new.bits, certificate=profile)
    checked = check_parsed_certificate(tenant, parse_recording_certificate(bytes(entry.certificate_der)), at=now)
    certificate = create_certificate(tenant, entry, checked, by=by)
    if renews is not None:
        certificate.renews = renews
        certificate.save(update_fields=["renews"])
    details = {**certificate.audit_details(), "bits": new.bits, "days": new.days}
    if renews is not None:
        details["renews"] = renews.alias
    action = "certificate-renewed" if renews is not None else "certificate-generated"
    record(action, by=by, tenant=tenant, obj=certificate, details=details)
    return certificate


@contextmanager
def saved_or_refused(what: str) -> Iterator[None]:
    """A race lost between the checks and the insert (an alias taken meanwhile) becomes the Alias field's message,
    and a keystore that cannot seal a message of its own; the transaction inside has rolled back, so nothing was
    saved."""
    try:
        yield
    except AliasError as error:
        raise refusal(ALIAS, str(error)) from None
    except IntegrityError:
        raise refusal(ALIAS, f"The {what} could not be saved: its alias was taken meanwhile; try again.") from None
    except KeystoreError as error:  # its master key is missing mid-rotation, say: said where the user is, not a 500
        raise refusal(KEYSTORE, f"Nothing was saved: the keystore cannot be used: {error}.") from None


def generate_certificate(
    tenant: Any,
    new: NewKey,
    *,
    by: Actor,
    renews: Certificate | None = None,
    follow_ups: Collection[str] = (),
) -> Outcome:
    """Generate the key and its self-signed certificate, all or nothing, with the audit record; a renewal's
    follow-ups run in the same transaction."""
    with saved_or_refused("certificate"), transaction.atomic():
        certificate = _generate(tenant, new, by=by, renews=renews)
        notes = followups.run(follow_ups, renews, certificate, by) if renews is not None else []
    return Outcome(certificate=certificate, notes=notes)
