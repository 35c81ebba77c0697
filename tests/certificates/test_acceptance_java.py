"""Java's PKIX validation, which the Recording Crypto Server runs, and the portal give the same verdict on every
critical extension and on what Java will not load."""

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtensionOID

from certificates.x509.acceptance import RECOGNISED_CRITICAL_EXTENSIONS
from certificates.x509.parsing import CertificateError, parse_certificate
from keystore.api import MIN_RSA_BITS

from . import der_edit as de
from . import pki
from .refused import JAVA_WILL_NOT_LOAD, PRIVATE, edited

PKIX_CHECK = """
import java.io.FileInputStream;
import java.security.cert.*;
import java.util.*;

public class PkixCheck {
    public static void main(String[] args) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        X509Certificate root = (X509Certificate) factory.generateCertificate(new FileInputStream(args[0]));
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        parameters.setRevocationEnabled(false);
        for (int i = 1; i < args.length; i++) {
            try {
                X509Certificate leaf = (X509Certificate) factory.generateCertificate(new FileInputStream(args[i]));
                CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(List.of(leaf)), parameters);
                System.out.println("accepted");
            } catch (CertificateException | CertPathValidatorException e) {
                System.out.println("refused: " + e.getMessage());
            }
        }
    }
}
"""


def _critical_extensions(key: rsa.RSAPrivateKey, ca_key: rsa.RSAPrivateKey) -> dict[str, x509.ExtensionType]:
    uri = x509.UniformResourceIdentifier("http://crl.example/")
    point = x509.DistributionPoint([uri], None, None, None)
    access = x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP, uri)
    return {
        "key-usage": pki.key_usage(digital_signature=True, key_encipherment=True),
        "extended-key-usage": x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.CLIENT_AUTH]),
        "subject-alternative-name": x509.SubjectAlternativeName([x509.DNSName("recording.example")]),
        "name-constraints": x509.NameConstraints([x509.DNSName("example")], None),
        "certificate-policies": x509.CertificatePolicies(
            [x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)]
        ),
        "policy-mappings": x509.UnrecognizedExtension(
            ExtensionOID.POLICY_MAPPINGS, de.seq(de.seq(de.oid("1.2.3.4"), de.oid("1.2.3.5"))).encode()
        ),
        "policy-constraints": x509.PolicyConstraints(require_explicit_policy=None, inhibit_policy_mapping=0),
        "inhibit-any-policy": x509.InhibitAnyPolicy(0),
        "subject-key-identifier": x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
        "authority-key-identifier": x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
        "crl-distribution-points": x509.CRLDistributionPoints([point]),
        "freshest-crl": x509.FreshestCRL([point]),
        "issuer-alternative-name": x509.IssuerAlternativeName([x509.DNSName("ca.example")]),
        "authority-information-access": x509.AuthorityInformationAccess([access]),
        "ocsp-no-check": x509.OCSPNoCheck(),
        "ct-poison": x509.PrecertPoison(),
        "tls-feature": x509.TLSFeature([x509.TLSFeatureType.status_request]),
        "private": x509.UnrecognizedExtension(PRIVATE, b"\x05\x00"),
    }


@pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")
def test_java_refuses_exactly_what_the_portal_refuses(tmp_path: Path) -> None:
    """Each extension marked critical on a certificate issued by a root CA, and the certificates Java will not even
    load: Java's PKIX validation and the portal give the same verdict on each."""
    ca, ca_key = pki.make_ca()
    key = pki.make_key(2048, 2)
    (tmp_path / "root.der").write_bytes(pki.der(ca))
    (tmp_path / "PkixCheck.java").write_text(PKIX_CHECK)
    basic = (x509.BasicConstraints(ca=False, path_length=None), False)
    leaves = {
        name: pki.der(pki.issue(ca, ca_key, key=key, extensions=[basic, (value, True)])[0])
        for name, value in _critical_extensions(key, ca_key).items()
    }
    issued = pki.der(pki.issue(ca, ca_key, key=key)[0])
    leaves |= {name: edited(issued, ca_key, edit) for name, edit in JAVA_WILL_NOT_LOAD.items()}
    portal, paths = {}, []
    for name, data in leaves.items():
        paths.append(tmp_path / f"{name}.der")
        paths[-1].write_bytes(data)
        try:
            parse_certificate(data, min_rsa_bits=MIN_RSA_BITS)
            portal[name] = "accepted"
        except CertificateError:
            portal[name] = "refused"
    run = subprocess.run(
        ["java", "PkixCheck.java", "root.der", *map(str, paths)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    java = {name: line.split(":")[0] for name, line in zip(portal, run.stdout.splitlines(), strict=True)}
    assert java == portal
    # Basic Constraints, the ninth, is on every leaf: critical in other tests, not critical here.
    assert len(RECOGNISED_CRITICAL_EXTENSIONS) == 9
    assert {name for name, verdict in java.items() if verdict == "accepted"} == {
        "key-usage",
        "extended-key-usage",
        "subject-alternative-name",
        "name-constraints",
        "certificate-policies",
        "policy-mappings",
        "policy-constraints",
        "inhibit-any-policy",
    }
