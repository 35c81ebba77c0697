"""Certificates damaged at the ASN.1 level (see ``malformed``): the parser answers each one with a certificate or a
CertificateError, and the upload panel (its JSON preview and Save) answers each one with a message, never a server
error."""

import re

import pytest
from cryptography import x509

from certificates.x509 import parsing, reading
from certificates.x509.parsing import CertificateError, parse_certificate, parse_root_ca
from keystore.api import MIN_RSA_BITS
from tests.factories import errors, post_preview, post_upload

from . import pki
from .malformed import corpus, named_cases, rich
from .parsing_helpers import rejected
from .test_rootca import add, error_of

LIBRARY_WORDS = re.compile(r"ParseError|asn1|Traceback|location|Duplicate|panic|0x[0-9a-f]", re.IGNORECASE)


def assert_readable(message: str) -> None:
    assert message and "\n" not in message
    assert not LIBRARY_WORDS.search(message), message


def test_the_parser_raises_nothing_but_certificate_error_on_any_of_them() -> None:
    escaped = []
    for name, data in corpus():
        for parse in (parse_certificate, parse_root_ca):
            for min_rsa_bits in (MIN_RSA_BITS, None):  # accepting a new certificate, and reading a stored one
                try:
                    parse(data, min_rsa_bits=min_rsa_bits)
                except CertificateError as error:
                    assert_readable(str(error))
                except BaseException as error:  # noqa: BLE001 - any other exception is what this test looks for
                    escaped.append(f"{name}: {type(error).__name__}: {error}")
    assert not escaped


def _extension_message(label: str) -> str:
    return f"The certificate's {label} extension is malformed; create a new certificate."


def _unreadable(field: str) -> str:
    return (
        f"The certificate's {field} cannot be read: it is malformed or in an encoding this portal does not support. "
        "Create a new certificate."
    )


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "basic-constraints-twice",
            "The certificate has the Basic Constraints (2.5.29.19) extension twice; X.509 allows each extension "
            "once. Create a new certificate.",
        ),
        (
            "san-twice",
            "The certificate has the Subject Alternative Name (2.5.29.17) extension twice; X.509 allows each "
            "extension once. Create a new certificate.",
        ),
        ("san-x400-address", _extension_message("Subject Alternative Name (2.5.29.17)")),
        ("san-ip-5-bytes", _extension_message("Subject Alternative Name (2.5.29.17)")),
        ("san-dns-bad-utf8", _extension_message("Subject Alternative Name (2.5.29.17)")),
        ("key-usage-8-unused-bits", _extension_message("Key Usage (2.5.29.15)")),
        ("path-length-negative", _extension_message("Basic Constraints (2.5.29.19)")),
        ("eku-of-strings", _extension_message("Extended Key Usage (2.5.29.37)")),
        ("aki-with-wrong-tags", _extension_message("Authority Key Identifier (2.5.29.35)")),
        # Past the first 64 extensions the malformed one is not looked for: the work stays bounded.
        ("300-extensions-last-malformed", "The certificate's extensions are malformed; create a new certificate."),
        ("subject-cn-bad-utf8", _unreadable("subject")),
        ("generalized-time-year-0000", _unreadable("validity dates")),
        ("utc-time-without-z", _unreadable("validity dates")),
        ("generalized-time-fraction", _unreadable("validity dates")),
        ("month-13", _unreadable("validity dates")),
        ("version-4", _unreadable("version")),
        ("serial-not-minimal", _unreadable("serial number")),
        ("signature-algorithm-bad-parameters", _unreadable("signature algorithm")),
        ("ec-explicit-curve", _unreadable("public key")),
        ("signature-not-bit-string", _unreadable("signature")),
        # Fields missing or out of order: no one field to blame.
        ("swap-validity-subject", parsing.MSG_DAMAGED),
        ("drop-issuer", parsing.MSG_DAMAGED),
        ("serial-negative", parsing.MSG_BAD_SERIAL),
        ("rsa-exponent-zero", "The certificate's RSA public exponent is 0; at least 65537 is required."),
        ("rsa-modulus-negative", parsing.MSG_BAD_RSA_KEY),
        ("public-key-garbage", _unreadable("public key")),
        (
            "ec-unknown-curve",
            "The certificate's key is of an unsupported type (1.2.840.10045.2.1); recording certificates must be "
            "RSA, 2048 bits or more.",
        ),
    ],
)
def test_each_kind_of_damage_has_its_message(case: str, message: str) -> None:
    assert rejected(named_cases()[case]) == message


def test_a_panic_in_the_library_becomes_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    # pyo3 turns a Rust panic into pyo3_runtime.PanicException, a BaseException that cannot be imported: one made
    # the same way stands in for it.
    panic = type("PanicException", (BaseException,), {"__module__": "pyo3_runtime"})

    def panicking(name: x509.Name) -> str:
        raise panic("called `Result::unwrap()` on an `Err` value")

    monkeypatch.setattr(parsing, "dn", panicking)
    assert rejected(pki.pem(pki.make_self_signed()[0])) == _unreadable("subject")


def test_an_interrupt_is_not_mistaken_for_a_bad_certificate() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reading.read_field("subject", interrupted)


def test_preview_and_save_answer_every_malformed_certificate_with_a_message(world, client_for) -> None:
    client = client_for(world.alice)
    key = pki.key_pem_traditional(rich()[1])
    for name, data in corpus():
        # The test client re-raises whatever a view lets through, so a server error fails here, naming the case.
        preview = post_preview(client, "acme", data, None)
        assert preview.status_code == 200, name
        body = preview.json()
        assert body["certificate"] is not None or body["errors"]["certificate_file"], name
        for message in body["errors"].values():
            assert_readable(message)
        saved = post_upload(client, "acme", data, key)
        assert saved.status_code in (200, 302), name
        if saved.status_code == 200:
            shown = errors(saved)
            assert shown, name
            for message in shown.values():
                assert_readable(message)


def test_root_ca_upload_answers_every_malformed_certificate_with_a_message(world, client_for) -> None:
    client = client_for(world.alice)
    for name, data in named_cases().items():
        response = add(client, data)
        assert response.status_code in (200, 302), name
        if response.status_code == 200:
            assert_readable(error_of(response))


def test_a_repeated_extension_no_longer_breaks_the_preview(world, client_for) -> None:
    # Like pyca/cryptography's own test vector two_basic_constraints.pem: cryptography raises DuplicateExtension,
    # which is not a ValueError, and the preview answered with a server error.
    body = post_preview(client_for(world.alice), "acme", named_cases()["basic-constraints-twice"], None).json()
    assert body["certificate"] is None
    assert body["errors"]["certificate_file"].startswith("The certificate has the Basic Constraints (2.5.29.19)")
