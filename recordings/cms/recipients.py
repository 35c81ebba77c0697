"""The envelope's recipients: who can unwrap the session key, and with which RSA padding. Only key transport
(KeyTransRecipientInfo) is read; key agreement, KEK and password recipients are skipped."""

from dataclasses import dataclass, field
from typing import Any

from asn1crypto import cms, x509  # type: ignore[import-untyped]

from .errors import DamagedRecording, UnsupportedEnvelope

PKCS1V15 = "pkcs1v15"
OAEP_SHA1 = "oaep-sha1"
OAEP_SHA256 = "oaep-sha256"
_OAEP_HASHES = {"sha1": OAEP_SHA1, "sha256": OAEP_SHA256}
_SKIPPED = {"kari": "key agreement", "kekri": "a previously distributed key", "pwri": "a password", "ori": "other"}
# RFC 4514 short names; other attribute types are written as their dotted OID.
_SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
}


@dataclass(frozen=True)
class Recipient:
    """One KeyTransRecipientInfo: whose public key wrapped the session key, how, and the wrapped key."""

    issuer: bytes | None  # DER of the issuer Name, exactly as in the envelope (issuerAndSerialNumber)
    serial: int | None
    subject_key_id: bytes | None  # when the recipient is named by [0] SubjectKeyIdentifier
    transport: str  # "pkcs1v15", "oaep-sha1", "oaep-sha256", or "unsupported:<why>"
    encrypted_key: bytes = field(repr=False)

    def describe(self) -> str:
        if self.subject_key_id is not None:
            return "subject key identifier " + ":".join(f"{octet:02X}" for octet in self.subject_key_id)
        serial = f"-0x{-self.serial:X}" if self.serial is not None and self.serial < 0 else f"0x{self.serial or 0:X}"
        try:
            issuer = _name_text(self.issuer or b"")
        # parse_recipients checked the Name of every Recipient it made; this covers ones made elsewhere.
        except Exception:
            issuer = "(unreadable name)"
        return f"issuer {issuer}, serial {serial}"


def parse_recipients(der: bytes) -> tuple[Recipient, ...]:
    """The key transport recipients of a RecipientInfos SET; UnsupportedEnvelope when there are none."""
    try:
        infos = cms.RecipientInfos.load(der, strict=True)
        kinds = [info.name for info in infos]
        recipients = tuple(_recipient(info.chosen) for info in infos if info.name == "ktri")
    # asn1crypto reports malformed input with several exception types; all of them mean the same to the user.
    except Exception:
        raise DamagedRecording("The recording is damaged: its recipient information cannot be read.") from None
    if not recipients:
        if not kinds:
            raise DamagedRecording("The recording is damaged: it names no recipient.")
        ways = ", ".join(sorted({_SKIPPED.get(kind, kind) for kind in kinds}))
        raise UnsupportedEnvelope(
            f"The recording's session key is shared through {ways}, not through an RSA key; this is not supported."
        )
    return recipients


def _recipient(info: Any) -> Recipient:
    rid = info["rid"]
    transport = _transport(info["key_encryption_algorithm"].native)
    encrypted_key = info["encrypted_key"].native
    if rid.name == "subject_key_identifier":
        return Recipient(None, None, rid.chosen.native, transport, encrypted_key)
    issuer = rid.chosen["issuer"]
    serial = rid.chosen["serial_number"].native
    _name_text(issuer.dump())  # a Name that cannot be shown is damage found now, not when a message is written
    return Recipient(issuer.dump(), serial, None, transport, encrypted_key)


def _transport(algorithm: dict[str, Any]) -> str:
    name = algorithm["algorithm"]
    if name == "rsaes_pkcs1v15":
        return PKCS1V15
    if name != "rsaes_oaep":
        return f"unsupported:key transport algorithm {name}"
    params = algorithm["parameters"] or {}
    digest = (params.get("hash_algorithm") or {"algorithm": "sha1"})["algorithm"]
    mask = params.get("mask_gen_algorithm") or {"algorithm": "mgf1", "parameters": {"algorithm": "sha1"}}
    label = (params.get("p_source_algorithm") or {}).get("parameters") or b""
    if mask["algorithm"] != "mgf1" or (mask["parameters"] or {}).get("algorithm") != digest:
        return f"unsupported:RSA-OAEP with a mask generation other than MGF1 with {digest}"
    if label:
        return "unsupported:RSA-OAEP with a label"
    if digest not in _OAEP_HASHES:
        return f"unsupported:RSA-OAEP with {digest}"
    return _OAEP_HASHES[digest]


def _name_text(der: bytes) -> str:
    """RFC 4514 text of a Name (most specific first), with control characters escaped."""
    rdns = []
    for rdn in x509.Name.load(der).chosen:
        parts = []
        for attribute in rdn:
            oid = attribute["type"].dotted
            value = attribute["value"].native
            text = value if isinstance(value, str) else "#" + attribute["value"].dump().hex()
            parts.append(f"{_SHORT_NAMES.get(oid, oid)}={_escape(text)}")
        rdns.append("+".join(parts))
    return ",".join(reversed(rdns))


def _escape(value: str) -> str:
    escaped = "".join("\\" + char if char in ',+"\\<>;=' else char for char in value)
    return "".join(char if char.isprintable() else f"\\{ord(char):02X}" for char in escaped)
