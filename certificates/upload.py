"""Checking and saving a recording certificate with its private key: the one path used by the upload screen, the
``import_certificate`` command and the keystore restore. Every refusal is an ``UploadProblem`` that names the field
it belongs to and says, in words, what is wrong. What the panel shows before Save is in ``preview``; the keystore
restore's hook in ``restore``.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from keystore.api import (
    MIN_RSA_BITS,
    AliasError,
    KeyFileError,
    KeyFileInfo,
    KeyPasswordError,
    KeystoreEntry,
    OpenedKeyFile,
    ProposedAlias,
    describe_key_file,
    open_key_file,
    store,
)
from keystore.api import check_alias as keystore_check_alias
from keystore.api import propose_alias as keystore_propose_alias
from portal.audit.log import Actor, record

from .models import Certificate, RootCA
from .status import EXPIRED, NOT_YET_VALID, status_for, status_label
from .x509.chain import ChainResult, verify_chain
from .x509.parsing import CertificateError, ParsedCertificate, parse_certificate

CERTIFICATE_FILE = "certificate_file"
KEY_FILE = "key_file"
KEY_PASSWORD = "key_password"
ALIAS = "alias"

T = TypeVar("T")


@dataclass(frozen=True)
class UploadProblem:
    field: str  # the form field the message belongs on
    message: str


class UploadInvalid(Exception):
    """One or more problems, at most one per field, in the order the form shows them."""

    def __init__(self, problems: Sequence[UploadProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)

    @property
    def first(self) -> UploadProblem:
        return self.problems[0]


@dataclass(frozen=True)
class CheckedCertificate:
    parsed: ParsedCertificate
    chain: ChainResult
    status: str  # status at the time of the check (models.VALID, EXPIRING, EXPIRED, NOT_YET_VALID)

    @property
    def status_label(self) -> str:
        return status_label(self.status, self.parsed.not_valid_before)

    @property
    def warning(self) -> str | None:
        """What the uploader must know about a certificate that is accepted but cannot encrypt new recordings."""
        if self.status == EXPIRED:
            return (
                f"This certificate expired on {self.parsed.not_valid_after:%Y-%m-%d}. It is kept for playback of "
                "older recordings only and cannot encrypt new recordings."
            )
        if self.status == NOT_YET_VALID:
            return (
                f"This certificate is not valid before {self.parsed.not_valid_before:%Y-%m-%d %H:%M} UTC; "
                "it cannot be used for recording until then."
            )
        return None


@dataclass(frozen=True)
class ValidatedUpload:
    certificate: CheckedCertificate
    key: OpenedKeyFile  # opened once, with its password: Save stores this, the file is not read again
    alias: str
    warnings: list[str] = field(default_factory=list)
    alias_note: str = ""  # why the proposed alias is not the certificate's name as it is; "" for a typed alias


def refusal(field_name: str, message: str) -> UploadInvalid:
    return UploadInvalid([UploadProblem(field_name, message)])


def too_large_message(what: str) -> str:
    limit = settings.PORTAL_MAX_UPLOAD_BYTES
    return f"The {what} is larger than {limit // 1024} KB; a {what} is a few KB. Choose the right file."


def read_upload(upload: UploadedFile, *, field_name: str, what: str) -> bytes:
    """The file's bytes, refused by its announced size before anything is read into memory."""
    if upload.size is not None and upload.size > settings.PORTAL_MAX_UPLOAD_BYTES:
        raise refusal(field_name, too_large_message(what))
    data = upload.read(settings.PORTAL_MAX_UPLOAD_BYTES + 1)
    if len(data) > settings.PORTAL_MAX_UPLOAD_BYTES:  # a size that lied
        raise refusal(field_name, too_large_message(what))
    return data


def parse_recording_certificate(data: bytes) -> ParsedCertificate:
    """Parse (the parser refuses what is not one RSA certificate of the keystore's minimum size) and check the serial
    fits."""
    try:
        parsed = parse_certificate(data, max_bytes=settings.PORTAL_MAX_UPLOAD_BYTES, min_rsa_bits=MIN_RSA_BITS)
    except CertificateError as error:
        raise refusal(CERTIFICATE_FILE, str(error)) from None
    if parsed.serial_number.bit_length() > 160:
        raise refusal(
            CERTIFICATE_FILE,
            "The certificate's serial number is longer than 20 bytes, which X.509 forbids; create a new certificate.",
        )
    return parsed


def check_parsed_certificate(
    tenant: Any, parsed: ParsedCertificate, *, at: datetime | None = None, roots: Sequence[bytes] | None = None
) -> CheckedCertificate:
    """The tenant's rules for a parsed certificate: not uploaded before, and self-signed or issued by one of the
    tenant's root CAs."""
    at = at or timezone.now()
    existing = (
        Certificate.objects.filter(tenant=tenant, sha256_fingerprint=parsed.sha256_fingerprint)
        .select_related("entry")
        .first()
    )
    if existing is not None:
        state = " (archived)" if existing.archived_at else ""
        raise refusal(
            CERTIFICATE_FILE, f"This certificate is already uploaded in this tenant as '{existing.alias}'{state}."
        )
    # An expired certificate is kept for playback: its root must have been valid while it was, not necessarily now.
    chain_at = min(at, parsed.not_valid_after)
    chain = verify_chain(parsed, RootCA.objects.ders_of(tenant) if roots is None else roots, at=chain_at)
    if not chain.ok:
        raise refusal(CERTIFICATE_FILE, chain.reason)
    return CheckedCertificate(parsed, chain, status_for(parsed.not_valid_before, parsed.not_valid_after, at))


def check_certificate(
    tenant: Any, data: bytes, *, at: datetime | None = None, roots: Sequence[bytes] | None = None
) -> CheckedCertificate:
    """Everything about the certificate alone: format, key, duplicates in the tenant, chain to a trusted root."""
    return check_parsed_certificate(tenant, parse_recording_certificate(data), at=at, roots=roots)


@sensitive_variables("data")
def describe_key(data: bytes) -> KeyFileInfo:
    """ "Key Details" as soon as a key file is chosen: no password needed."""
    try:
        return describe_key_file(data)
    except KeyFileError as error:
        raise refusal(KEY_FILE, str(error)) from None


@sensitive_variables("data", "password")
def open_key(data: bytes, password: str | None) -> OpenedKeyFile:
    """Open the key once, with its password when it is encrypted. A wrong or missing password is the password's
    fault; what the key turns out to be (EC, too small, damaged) is the file's."""
    try:
        return open_key_file(data, password)
    except KeyPasswordError as error:
        raise refusal(KEY_PASSWORD, str(error)) from None
    except KeyFileError as error:
        raise refusal(KEY_FILE, str(error)) from None


def check_pair(parsed: ParsedCertificate, key: KeyFileInfo) -> None:
    """The keystore's rule for a key and its certificate, with its message on the Key File field."""
    try:
        key.check_belongs_to(parsed.der)
    except KeyFileError as error:
        raise refusal(KEY_FILE, str(error)) from None


def propose_alias(tenant: Any, parsed: ParsedCertificate) -> ProposedAlias:
    """The parser's suggestion, made to fit the keystore's alias rule and unique in the tenant (-2, -3 …), with the
    reasons when it had to change (shortened, taken)."""
    return keystore_propose_alias(tenant, parsed.suggested_alias or parsed.subject_name)


def check_alias(tenant: Any, alias: str) -> str:
    """The keystore's alias rule, with its message on the Alias field."""
    try:
        return keystore_check_alias(tenant, alias)
    except AliasError as error:
        raise refusal(ALIAS, str(error)) from None


def collect_problems(problems: list[UploadProblem], step: Callable[[], T]) -> T | None:
    """``step()``, or None with its problems added to ``problems``: independent checks report together."""
    try:
        return step()
    except UploadInvalid as invalid:
        problems.extend(invalid.problems)
        return None


@sensitive_variables("key_data", "password")
def validate_upload(
    tenant: Any,
    *,
    certificate_data: bytes,
    key_data: bytes,
    password: str | None,
    alias: str | None,
    at: datetime | None = None,
) -> ValidatedUpload:
    """All checks, in the order the form shows them. The certificate and the key are checked independently, so a
    form with both wrong says both; the pair, then the alias, only when each side is fine on its own.
    An empty ``alias`` means: propose one from the certificate."""
    problems: list[UploadProblem] = []
    checked = collect_problems(problems, lambda: check_certificate(tenant, certificate_data, at=at))
    key = collect_problems(problems, lambda: open_key(key_data, password))
    if checked is not None and key is not None:
        pair = (checked.parsed, key.info)
        collect_problems(problems, lambda: check_pair(*pair))
    final_alias: str | None = None
    alias_note = ""
    if checked is not None:
        if alias:
            final_alias = collect_problems(problems, lambda: check_alias(tenant, alias))
        else:
            proposed = propose_alias(tenant, checked.parsed)
            final_alias, alias_note = proposed.alias, proposed.note
    if problems:
        raise UploadInvalid(problems)
    assert checked is not None and key is not None and final_alias is not None
    warnings = [checked.warning] if checked.warning else []
    return ValidatedUpload(checked, key, final_alias, warnings, alias_note)


def certificate_fields(parsed: ParsedCertificate, chain: ChainResult) -> dict[str, Any]:
    return {
        "subject_name": parsed.subject_name[:300],
        "serial_number": str(parsed.serial_number),
        "serial_hex": parsed.serial_hex,
        "subject_dn": parsed.subject_dn,
        "issuer_dn": parsed.issuer_dn,
        "not_valid_before": parsed.not_valid_before,
        "not_valid_after": parsed.not_valid_after,
        "sha256_fingerprint": parsed.sha256_fingerprint,
        "key_size": parsed.key_size,
        "signature_algorithm": parsed.signature_algorithm,
        "is_self_signed": parsed.is_self_signed,
        "chain_ok": chain.ok,
        "chain_reason": chain.reason[:500],
    }


def create_certificate(tenant: Any, entry: KeystoreEntry, checked: CheckedCertificate, *, by: Actor) -> Certificate:
    """The Certificate row for a keystore entry just stored, inside the caller's transaction."""
    return Certificate.objects.create(
        tenant=tenant,
        entry=entry,
        uploaded_by=by.user,
        **certificate_fields(checked.parsed, checked.chain),
    )


def _race_problem(tenant: Any, checked: CheckedCertificate, alias: str) -> UploadInvalid:
    """A concurrent upload took the alias or the certificate between the checks and the insert."""
    try:
        check_alias(tenant, alias)
        check_certificate(tenant, checked.parsed.der)
    except UploadInvalid as invalid:
        return invalid
    return refusal(CERTIFICATE_FILE, "The certificate could not be saved; try again.")


def save_upload(
    tenant: Any,
    validated: ValidatedUpload,
    *,
    by: Actor,
    action: str = "certificate-uploaded",
) -> Certificate:
    """Store the key in the keystore and the certificate here, with the audit record, all or nothing."""
    checked = validated.certificate
    try:
        with transaction.atomic():
            entry = store(tenant, alias=validated.alias, certificate_der=checked.parsed.der, key=validated.key)
            certificate = create_certificate(tenant, entry, checked, by=by)
            record(
                action,
                by=by,
                tenant=tenant,
                obj=certificate,
                details={**certificate.audit_details(), "status": checked.status},
            )
    except IntegrityError:
        raise _race_problem(tenant, checked, validated.alias) from None
    except AliasError as error:  # taken meanwhile
        raise refusal(ALIAS, str(error)) from None
    except KeyFileError as error:
        raise refusal(KEY_FILE, str(error)) from None
    return certificate
