"""Recordings for the page and command tests: content encrypted at test time by the real openssl commands, to
certificates stored in a tenant's keystore."""

import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7

from certificates.models import Certificate


def certificate_of(certificate: Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(bytes(certificate.entry.certificate_der))


def openssl_encrypt(
    content: bytes,
    recipients: list[x509.Certificate],
    folder: Path,
    *options: str,
    tool: str = "cms",
    keyopts: tuple[str, ...] = (),
) -> bytes:
    """``openssl cms|smime -encrypt`` of ``content`` to the recipients, DER unless ``options`` say otherwise;
    ``keyopts`` (e.g. "rsa_padding_mode:oaep") apply to every recipient."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "content.raw"
    source.write_bytes(content)
    pems = []
    for number, cert in enumerate(recipients):
        pem = folder / f"recipient-{number}.pem"
        pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pems.append(str(pem))
    target = folder / "encrypted.out"
    outform = [] if any(option.startswith("-outform") for option in options) else ["-outform", "DER"]
    # -keyopt applies to the -recip before it.
    keyopt_args = [item for keyopt in keyopts for item in ("-keyopt", keyopt)]
    targets = [item for pem in pems for item in ("-recip", pem, *keyopt_args)] if keyopts else pems
    subprocess.run(
        [
            "openssl",
            tool,
            "-encrypt",
            "-binary",
            "-in",
            str(source),
            "-out",
            str(target),
            *outform,
            *options,
            *targets,
        ],
        check=True,
        capture_output=True,
    )
    return target.read_bytes()


def recording(content: bytes, certificate: Certificate, folder: Path, *options: str) -> bytes:
    """A recording as the Media Control Platform writes one: AES-256-CBC, RSA key transport, DER."""
    return openssl_encrypt(content, [certificate_of(certificate)], folder, "-aes256", *options, tool="smime")


def builder_recording(content: bytes, cert: x509.Certificate) -> bytes:
    """The same with the cryptography package's PKCS7EnvelopeBuilder."""
    return (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(content)
        .add_recipient(cert)
        .set_content_encryption_algorithm(algorithms.AES256)
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
