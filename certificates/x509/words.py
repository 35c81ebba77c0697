"""Describe a loaded certificate in the words the UI shows: names, keys, extensions and hex, spelt as openssl
spells them so an administrator can compare the page with `openssl x509 -text`."""

from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    ExtensionOID,
    NameOID,
    SignatureAlgorithmOID,
)

from portal.web.text import visible

_SIGNATURE_NAMES = {
    SignatureAlgorithmOID.RSA_WITH_MD5: "md5WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA1: "sha1WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA224: "sha224WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA256: "sha256WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "sha384WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA512: "sha512WithRSAEncryption",
    SignatureAlgorithmOID.RSASSA_PSS: "rsassaPss",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "ecdsa-with-SHA256",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "ecdsa-with-SHA384",
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: "ecdsa-with-SHA512",
    SignatureAlgorithmOID.ED25519: "ED25519",
    SignatureAlgorithmOID.ED448: "ED448",
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

# openssl's short names where cryptography would fall back to the dotted OID or spell it differently.
_DN_NAMES = {
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.TITLE: "title",
    NameOID.GIVEN_NAME: "GN",
    NameOID.SURNAME: "SN",
    NameOID.INITIALS: "initials",
    NameOID.GENERATION_QUALIFIER: "generationQualifier",
    NameOID.STREET_ADDRESS: "street",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.PSEUDONYM: "pseudonym",
    NameOID.DN_QUALIFIER: "dnQualifier",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionC",
    NameOID.JURISDICTION_STATE_OR_PROVINCE_NAME: "jurisdictionST",
    NameOID.JURISDICTION_LOCALITY_NAME: "jurisdictionL",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
    NameOID.UNSTRUCTURED_NAME: "unstructuredName",
}
_EXTENSION_NAMES = {
    ExtensionOID.BASIC_CONSTRAINTS: "Basic Constraints",
    ExtensionOID.KEY_USAGE: "Key Usage",
    ExtensionOID.EXTENDED_KEY_USAGE: "Extended Key Usage",
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME: "Subject Alternative Name",
    ExtensionOID.ISSUER_ALTERNATIVE_NAME: "Issuer Alternative Name",
    ExtensionOID.SUBJECT_KEY_IDENTIFIER: "Subject Key Identifier",
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER: "Authority Key Identifier",
    ExtensionOID.CRL_DISTRIBUTION_POINTS: "CRL Distribution Points",
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS: "Authority Information Access",
    ExtensionOID.CERTIFICATE_POLICIES: "Certificate Policies",
    ExtensionOID.NAME_CONSTRAINTS: "Name Constraints",
    ExtensionOID.POLICY_CONSTRAINTS: "Policy Constraints",
    ExtensionOID.INHIBIT_ANY_POLICY: "Inhibit anyPolicy",
    ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS: "CT Precertificate SCTs",
    ExtensionOID.PRECERT_POISON: "CT Precertificate Poison",
    ExtensionOID.POLICY_MAPPINGS: "Policy Mappings",
    ExtensionOID.FRESHEST_CRL: "Freshest CRL",
    ExtensionOID.SUBJECT_INFORMATION_ACCESS: "Subject Information Access",
    ExtensionOID.SUBJECT_DIRECTORY_ATTRIBUTES: "Subject Directory Attributes",
    ExtensionOID.PRIVATE_KEY_USAGE_PERIOD: "Private Key Usage Period",
    ExtensionOID.TLS_FEATURE: "TLS Feature",
    ExtensionOID.OCSP_NO_CHECK: "OCSP No Check",
}
_EXTENDED_KEY_USAGES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "Server Authentication",
    ExtendedKeyUsageOID.CLIENT_AUTH: "Client Authentication",
    ExtendedKeyUsageOID.CODE_SIGNING: "Code Signing",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "Email Protection",
    ExtendedKeyUsageOID.TIME_STAMPING: "Time Stamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSP Signing",
    ExtendedKeyUsageOID.SMARTCARD_LOGON: "Smart Card Logon",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "Any Extended Key Usage",
}
_KEY_USAGES = (
    ("digital_signature", "Digital Signature"),
    ("content_commitment", "Non Repudiation"),
    ("key_encipherment", "Key Encipherment"),
    ("data_encipherment", "Data Encipherment"),
    ("key_agreement", "Key Agreement"),
    ("key_cert_sign", "Certificate Sign"),
    ("crl_sign", "CRL Sign"),
)
_ACCESS_METHODS = {AuthorityInformationAccessOID.OCSP: "OCSP", AuthorityInformationAccessOID.CA_ISSUERS: "CA Issuers"}
_UNKNOWN_VALUE_BYTES = 32  # an undecoded extension is shown as hex, cut short to keep the page readable


def signature_algorithm_name(oid: x509.ObjectIdentifier) -> str:
    return _SIGNATURE_NAMES.get(oid, oid.dotted_string)


def key_words(key: PublicKeyTypes) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC ({_CURVE_NAMES.get(key.curve.name, key.curve.name)})"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA ({key.key_size} bits)"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__.removesuffix("PublicKey")  # X25519, X448 and whatever cryptography adds


def dn(name: x509.Name) -> str:
    """The RDNs in the order they appear in the certificate, comma separated, values escaped as RFC 4514 does,
    e.g. ``CN=Genesys Recording,C=US,ST=California,O=Genesys`` (the seed's format).

    For the standard attributes this is exactly ``openssl x509 -noout -subject -nameopt RFC2253,-dn_rev,-esc_msb``;
    for plain names it is also openssl's default ``-subject`` output with ``" = "`` and ``", "`` closed up to ``"="``
    and ``","``.
    """
    return escape_controls(",".join(rdn.rfc4514_string(_DN_NAMES) for rdn in name.rdns))


def escape_controls(text: str) -> str:
    """Control and text-direction characters written as openssl's escapes ("\\0A", "\\U202E"): every name the parser
    hands out passes here, so what is stored, shown, exported and mailed reads as the certificate spells it."""
    return visible(text)


def colon_hex(data: bytes) -> str:
    return data.hex(":").upper()


def serial_hex(number: int) -> str:
    digits = f"{abs(number):X}"
    return ("-" if number < 0 else "") + digits.zfill(len(digits) + len(digits) % 2)


def extension_label(oid: x509.ObjectIdentifier) -> str:
    """How a message names an extension: ``Key Usage (2.5.29.15)``, or the bare OID of one without a name."""
    name = _EXTENSION_NAMES.get(oid)
    return f"{name} ({oid.dotted_string})" if name else oid.dotted_string


def describe_extension(extension: x509.Extension[x509.ExtensionType]) -> tuple[str, str]:
    name = _EXTENSION_NAMES.get(extension.oid, extension.oid.dotted_string)
    words = escape_controls(_extension_words(extension.value))
    return name, f"{words} (critical)" if extension.critical else words


def _extension_words(value: x509.ExtensionType) -> str:
    if isinstance(value, x509.BasicConstraints):
        words = f"CA: {'true' if value.ca else 'false'}"
        return words if value.path_length is None else f"{words}, path length: {value.path_length}"
    if isinstance(value, x509.KeyUsage):
        usages = [label for attribute, label in _KEY_USAGES if getattr(value, attribute)]
        # encipher_only and decipher_only are only defined (and readable) together with key_agreement.
        if value.key_agreement:
            usages += [
                label
                for flag, label in ((value.encipher_only, "Encipher Only"), (value.decipher_only, "Decipher Only"))
                if flag
            ]
        return ", ".join(usages)
    if isinstance(value, x509.ExtendedKeyUsage):
        return ", ".join(_EXTENDED_KEY_USAGES.get(oid, oid.dotted_string) for oid in value)
    if isinstance(value, x509.SubjectAlternativeName | x509.IssuerAlternativeName):
        return _general_names(value)
    if isinstance(value, x509.SubjectKeyIdentifier):
        return colon_hex(value.digest)
    if isinstance(value, x509.AuthorityKeyIdentifier):
        parts = [colon_hex(value.key_identifier)] if value.key_identifier else []
        if value.authority_cert_issuer:
            parts.append(f"issuer: {_general_names(value.authority_cert_issuer)}")
        if value.authority_cert_serial_number is not None:
            parts.append(f"serial: {serial_hex(value.authority_cert_serial_number)}")
        return ", ".join(parts)
    if isinstance(value, x509.CRLDistributionPoints):
        return ", ".join(_general_names(point.full_name) for point in value if point.full_name)
    if isinstance(value, x509.AuthorityInformationAccess):
        methods = _ACCESS_METHODS
        return ", ".join(
            f"{methods.get(d.access_method, d.access_method.dotted_string)} - {_general_name(d.access_location)}"
            for d in value
        )
    if isinstance(value, x509.CertificatePolicies):
        return ", ".join(policy.policy_identifier.dotted_string for policy in value)
    raw = value.public_bytes()
    return colon_hex(raw[:_UNKNOWN_VALUE_BYTES]) + ("…" if len(raw) > _UNKNOWN_VALUE_BYTES else "")


def _general_names(names: Iterable[x509.GeneralName]) -> str:
    return ", ".join(_general_name(name) for name in names)


def _general_name(name: x509.GeneralName) -> str:
    # openssl's spelling, as in `openssl x509 -text`.
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP Address:{name.value}"
    if isinstance(name, x509.DirectoryName):
        return f"DirName:{dn(name.value)}"
    if isinstance(name, x509.RegisteredID):
        return f"Registered ID:{name.value.dotted_string}"
    if isinstance(name, x509.OtherName):
        return f"othername:{name.type_id.dotted_string}"
    return str(name.value)
