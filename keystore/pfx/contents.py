"""What a PKCS#12 file holds, as the reader returns it and the writer takes it."""

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

# PBKDF2-HMAC-SHA256 rounds for what we write (OWASP's 2023 figure); the MAC uses as many, or it would be the
# cheaper target for guessing the password.
ITERATIONS = 600_000
MAX_PFX_BYTES = 16 * 1024 * 1024


def default_iterations() -> int:
    """``ITERATIONS`` as it is when a file is written: the tests lower it here, and the writer hears it."""
    return ITERATIONS


class PfxError(ValueError):
    """A PKCS#12 file that cannot be read; the message is for the person who chose the file."""


@dataclass(frozen=True)
class PfxEntry:
    """One key entry to write: alias, certificate (DER) and private key."""

    alias: str
    certificate_der: bytes
    private_key: PrivateKeyTypes = field(repr=False)


@dataclass(frozen=True)
class PfxKey:
    """One private key found in a file, with its certificate when the file holds the matching one."""

    alias: str
    private_key: PrivateKeyTypes = field(repr=False)
    certificate_der: bytes | None


@dataclass(frozen=True)
class PfxContents:
    keys: list[PfxKey]
    certificates_without_key: list[tuple[str, bytes]]  # (name, DER): CA or chain certificates
    derivations: int = 0  # key derivations from the password that reading the file took
