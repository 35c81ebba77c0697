"""What a readable certificate must also be to be accepted: the rules that keep a certificate the Recording Crypto
Server (Java) would refuse, or that no one could use, out of the portal.

They apply where a certificate is accepted (upload, import, restore, a new root CA), not where one accepted earlier
is read again, so stored certificates keep opening if a rule is tightened.
"""

from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from .reading import CertificateError
from .words import extension_label, signature_algorithm_name

# 65537 is what every current tool generates; smaller exponents (3, 17) made RSA padding attacks practical and
# are refused by NIST SP 800-56B and by many clients.
MIN_RSA_EXPONENT = 65537

# The extensions Java's PKIX path validation (the JDK's PKIXCertPathValidator, which the Recording Crypto Server
# uses) processes when they are marked critical. RFC 5280 makes a client reject a certificate with any other critical
# extension, and Java does ("unrecognized critical extension(s)"), so accepting one would only defer the failure to
# recording time. Checked against JDK 17: a critical Authority or Subject Key Identifier, CRL Distribution Points,
# Freshest CRL, Issuer Alternative Name, Authority Information Access, CT poison or private extension fails there,
# although Java can parse some of them (tests/certificates/test_acceptance.py runs that check again where Java is).
RECOGNISED_CRITICAL_EXTENSIONS = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.NAME_CONSTRAINTS,
        ExtensionOID.CERTIFICATE_POLICIES,
        ExtensionOID.POLICY_MAPPINGS,
        ExtensionOID.POLICY_CONSTRAINTS,
        ExtensionOID.INHIBIT_ANY_POLICY,
    }
)


def check_java_loads(
    version: x509.Version,
    extensions: x509.Extensions,
    issuer: x509.Name,
    inner: str | None,
    outer: x509.ObjectIdentifier,
) -> None:
    """What Java's certificate parser refuses although cryptography reads it: the certificate would not even load on
    the Recording Crypto Server. ``inner`` and ``outer`` are the signature algorithms inside and outside the signed
    part."""
    if version == x509.Version.v1 and len(extensions):
        raise CertificateError(
            "The certificate is version 1 but has extensions, which only version 3 allows, and Java refuses it. "
            "Create a new certificate."
        )
    if not issuer.rdns:
        raise CertificateError(
            "The certificate's issuer is empty; X.509 requires one, and Java refuses a certificate without it. "
            "Create a new certificate."
        )
    if inner is not None and inner != outer.dotted_string:
        names = signature_algorithm_name(x509.ObjectIdentifier(inner)), signature_algorithm_name(outer)
        raise CertificateError(
            f"The certificate names two signature algorithms, {names[0]} in its signed part and {names[1]} outside "
            "it; X.509 requires the same one, and Java refuses such a certificate. Create a new certificate."
        )


def check_validity_order(not_before: datetime, not_after: datetime) -> None:
    if not_before > not_after:
        raise CertificateError(
            f"The certificate's validity period is reversed: it starts on {not_before:%Y-%m-%d %H:%M:%S} UTC, after "
            f"it ends on {not_after:%Y-%m-%d %H:%M:%S} UTC, so it is valid at no time. Create a new certificate."
        )


def check_critical_extensions(extensions: x509.Extensions) -> None:
    unrecognised = [ext.oid for ext in extensions if ext.critical and ext.oid not in RECOGNISED_CRITICAL_EXTENSIONS]
    if not unrecognised:
        return
    labels = ", ".join(map(extension_label, unrecognised))
    which = "a critical extension" if len(unrecognised) == 1 else "critical extensions"
    raise CertificateError(
        f"The certificate has {which} that the Recording Crypto Server does not recognise: {labels}. Such a "
        "certificate must be refused (RFC 5280); create a new certificate without it, or with it marked non-critical."
    )


def exponent_problem(exponent: int) -> str | None:
    """Why an RSA public exponent is refused, or None."""
    if exponent < MIN_RSA_EXPONENT:
        return f"The certificate's RSA public exponent is {exponent}; at least {MIN_RSA_EXPONENT} is required."
    if exponent % 2 == 0:
        return f"The certificate's RSA public exponent is {exponent}, an even number, which RSA cannot use."
    return None
