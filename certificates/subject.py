"""The distinguished name of a certificate made in the portal: the DN fields of the recording guide's table (Common
Name, Country, State or Province, Organization) and the three its CA scripts add (Locality, Organizational Unit,
E-mail), checked against X.509's bounds and put in the order the guide's ``-subj`` gives them."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from portal.web.text import has_invisible

from .upload import UploadInvalid, UploadProblem


@dataclass(frozen=True)
class DnField:
    key: str  # the form field and problem field name
    oid: x509.ObjectIdentifier
    label: str
    hint: str  # the guide's example
    max_length: int  # RFC 5280's upper bound


DN_FIELDS = (
    DnField("common_name", NameOID.COMMON_NAME, "Common Name (CN)", "Genesys Recording", 64),
    DnField("country", NameOID.COUNTRY_NAME, "Country (C)", "US", 2),
    DnField("state", NameOID.STATE_OR_PROVINCE_NAME, "State or Province (ST)", "California", 128),
    DnField("locality", NameOID.LOCALITY_NAME, "Locality (L)", "Daly City", 128),
    DnField("organization", NameOID.ORGANIZATION_NAME, "Organization (O)", "Genesys", 64),
    DnField("organizational_unit", NameOID.ORGANIZATIONAL_UNIT_NAME, "Organizational Unit (OU)", "Recording", 64),
    DnField("email", NameOID.EMAIL_ADDRESS, "E-mail", "security@example.com", 128),
)
_BY_OID = {field.oid: field for field in DN_FIELDS}


@dataclass(frozen=True)
class SubjectFields:
    common_name: str
    country: str = ""
    state: str = ""
    locality: str = ""
    organization: str = ""
    organizational_unit: str = ""
    email: str = ""

    def name(self) -> x509.Name:
        """The X.509 name, in the order of ``DN_FIELDS``, empty fields left out."""
        values = asdict(self)
        return x509.Name([x509.NameAttribute(field.oid, values[field.key]) for field in DN_FIELDS if values[field.key]])

    def as_initial(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def of(cls, name: x509.Name) -> "SubjectFields":
        """The fields of an existing certificate's subject (for a renewal): the first value of each known attribute;
        others have no field and are left out."""
        values: dict[str, str] = {}
        for attribute in name:
            field = _BY_OID.get(attribute.oid)
            if field is not None and field.key not in values and isinstance(attribute.value, str):
                values[field.key] = attribute.value
        return cls(**{"common_name": "", **values})


def _encodable(value: str) -> bool:
    """False for text from undecodable bytes (a command line's surrogate escapes), which no certificate can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _problem(field: DnField, value: str) -> str | None:
    if field.key == "common_name" and not value:
        return "Enter the Common Name (CN), such as Genesys Recording."
    if has_invisible(value) or not _encodable(value):
        return f"{field.label} cannot hold line breaks, control characters or text-direction characters."
    if field.key == "country" and value and not (len(value) == 2 and value.isascii() and value.isalpha()):
        return "Country (C) is a two-letter country code, such as US."
    if field.key == "email" and value and (not value.isascii() or "@" not in value or " " in value):
        return "E-mail is an address such as security@example.com."
    if len(value) > field.max_length:
        return f"The {field.label} is at most {field.max_length} characters; this one has {len(value):,}."
    return None


def check_subject(values: Mapping[str, object]) -> SubjectFields:
    """The fields, stripped (the country in capitals), each refused with its own message: ``UploadInvalid`` naming
    every bad field."""
    problems: list[UploadProblem] = []
    cleaned: dict[str, str] = {}
    for field in DN_FIELDS:
        value = str(values.get(field.key) or "").strip()
        cleaned[field.key] = value.upper() if field.key == "country" else value
        problem = _problem(field, value)
        if problem:
            problems.append(UploadProblem(field.key, problem))
    if problems:
        raise UploadInvalid(problems)
    return SubjectFields(**cleaned)
