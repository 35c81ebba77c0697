"""What the Upload Certificate panel shows before Save: the same checks as Save, on whatever has been chosen."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.views.decorators.debug import sensitive_variables

from keystore.api import KeyFileInfo

from .upload import (
    CheckedCertificate,
    UploadProblem,
    check_pair,
    check_parsed_certificate,
    collect_problems,
    describe_key,
    open_key,
    parse_recording_certificate,
    propose_alias,
)
from .x509.parsing import ParsedCertificate


@dataclass(frozen=True)
class UploadPreview:
    """What the upload panel shows before Save: the parsed fields, the key's description and any problem."""

    parsed: ParsedCertificate | None = None
    checked: CheckedCertificate | None = None
    key: KeyFileInfo | None = None
    alias: str = ""
    problems: tuple[UploadProblem, ...] = ()
    alias_note: str = ""  # why the proposed alias differs from the certificate's name, when it had to

    def as_json(self) -> dict[str, Any]:
        parsed, checked = self.parsed, self.checked
        return {
            "certificate": None
            if parsed is None
            else {
                "subject_name": parsed.subject_name,
                "serial_number": str(parsed.serial_number),
                "subject_dn": parsed.subject_dn,
                "issuer_dn": parsed.issuer_dn,
                "status": checked.status_label if checked else "",
                "chain": checked.chain.reason if checked else "",
                "warning": (checked.warning or "") if checked else "",
            },
            "key_details": self.key.description if self.key else "",
            "alias": self.alias,
            "alias_note": self.alias_note,
            "errors": {p.field: p.message for p in self.problems},
        }


@sensitive_variables("key_data", "password")
def preview_upload(
    tenant: Any,
    *,
    certificate_data: bytes | None,
    key_data: bytes | None,
    password: str | None,
    at: datetime | None = None,
) -> UploadPreview:
    """The same checks as Save, on whatever has been chosen so far; the fields fill in even when the tenant's rules
    (duplicate, chain) refuse the certificate, so the user sees which certificate was read."""
    problems: list[UploadProblem] = []
    parsed = checked = key = None
    alias = alias_note = ""
    if certificate_data is not None:
        parsed = collect_problems(problems, lambda: parse_recording_certificate(certificate_data))
        if parsed is not None:
            found = parsed
            checked = collect_problems(problems, lambda: check_parsed_certificate(tenant, found, at=at))
            proposed = propose_alias(tenant, parsed)
            alias, alias_note = proposed.alias, proposed.note
    if key_data is not None:
        if password:
            key = collect_problems(problems, lambda: open_key(key_data, password).info)
        else:
            key = collect_problems(problems, lambda: describe_key(key_data))
    if parsed is not None and key is not None:
        pair = (parsed, key)
        collect_problems(problems, lambda: check_pair(*pair))
    return UploadPreview(parsed, checked, key, alias, tuple(problems), alias_note)
