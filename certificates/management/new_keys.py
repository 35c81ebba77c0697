"""What the commands that make keys share: the subject options, one line per refusal naming the option at fault,
the certificate they print, and a CSR file that is written whole or not at all."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from certificates.generation import BITS, DAYS, DEFAULT_BITS
from certificates.models import Certificate
from certificates.subject import DN_FIELDS
from certificates.upload import ALIAS, UploadInvalid
from portal.cli import write_whole

# The command-line option of each subject field (certificates.subject.DN_FIELDS), in the order of the subject.
SUBJECT_OPTIONS = {
    "common_name": "--cn",
    "country": "--country",
    "state": "--state",
    "locality": "--locality",
    "organization": "--org",
    "organizational_unit": "--org-unit",
    "email": "--email",
}
OPTION_OF_FIELD = SUBJECT_OPTIONS | {DAYS: "--days", BITS: "--bits", ALIAS: "--alias"}


def add_subject_arguments(parser: CommandParser) -> None:
    for field in DN_FIELDS:
        parser.add_argument(
            SUBJECT_OPTIONS[field.key],
            dest=field.key,
            required=field.key == "common_name",
            help=f"{field.label}, such as '{field.hint}'",
        )


def add_key_arguments(parser: CommandParser) -> None:
    """--bits and --alias, as generate_certificate and request_certificate take them."""
    parser.add_argument(
        "--bits",
        default=str(DEFAULT_BITS),
        help=f"2048, 3072 or 4096 (default {DEFAULT_BITS})",
    )
    parser.add_argument("--alias", default="", help="the keystore alias (default: proposed from the subject)")


def subject_of(options: dict[str, Any]) -> dict[str, str]:
    """The subject fields given on the command line; an option left out is an empty field."""
    return {field.key: options[field.key] or "" for field in DN_FIELDS}


def refused(invalid: UploadInvalid) -> CommandError:
    """One line per problem, each naming the option to fix."""
    lines = []
    for problem in invalid.problems:
        option = OPTION_OF_FIELD.get(problem.field)
        lines.append(f"{option}: {problem.message}" if option else problem.message)
    return CommandError("\n".join(lines))


def certificate_lines(certificate: Certificate) -> list[str]:
    """What an operator checks of a certificate the portal made or accepted, as ``import_certificate`` words it."""
    validity = f"{certificate.not_valid_before:%Y-%m-%d %H:%M} to {certificate.not_valid_after:%Y-%m-%d %H:%M} UTC"
    return [
        f"Alias:         {certificate.alias}",
        f"Subject DN:    {certificate.subject_dn}",
        f"Issuer DN:     {certificate.issuer_dn}",
        f"Serial Number: {certificate.serial_number} (hex {certificate.serial_hex})",
        f"Valid:         {validity}",
        f"Fingerprint:   {certificate.sha256_fingerprint}",
        f"Key Details:   RSA {certificate.key_size} bits",
    ]


def check_new_file(path: Path, *, overwrite: bool) -> None:
    """Refuse before anything is made: a file that exists (unless told to replace it) or a folder that does not."""
    if path.is_dir():
        raise CommandError(f"{path} is a folder; give the name of the CSR file to write.")
    if path.exists() and not overwrite:
        raise CommandError(f"{path} exists; choose another name or pass --overwrite.")
    if not path.parent.is_dir():
        raise CommandError(f"The folder {path.parent} does not exist.")


@contextmanager
def file_kept_with_its_key(path: Path | None) -> Iterator[Callable[[bytes], None]]:
    """A writer for ``path`` whose file is taken away again if what follows fails (the commit of the transaction
    that made its key): a CSR file without its key would be signed by the CA for nothing. With no path nothing may
    be written."""
    written = False

    def write(data: bytes) -> None:
        nonlocal written
        assert path is not None
        write_file(path, data)
        written = True

    try:
        yield write
    except BaseException:
        if written and path is not None:
            path.unlink(missing_ok=True)
        raise


def write_file(path: Path, data: bytes) -> None:
    """Written whole or not at all (``portal.cli.write_whole``); a failure is one line."""
    try:
        write_whole(path, data)
    except OSError as error:
        raise CommandError(
            f"Cannot write {path}: {error.strerror or type(error).__name__}; nothing was made."
        ) from None
