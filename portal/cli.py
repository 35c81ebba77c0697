"""Plumbing shared by the management commands."""

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.accounts.models import Tenant


class FileTooLarge(ValueError):
    """The file holds more than the limit; only the limit and one byte were read."""


def read_bounded(path: Path, limit: int) -> bytes:
    """The file's bytes, reading at most ``limit`` + 1 of them: a device or pipe (``/dev/zero``, a FIFO) reports no
    size and would otherwise be read forever. ``OSError`` passes through for the caller to word."""
    with path.open("rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(path)
    return data


def tenant_by_slug(slug: str) -> "Tenant":
    """The tenant a command's ``--tenant`` names, or the one-line error that it names none."""
    from django.core.management.base import CommandError
    from django.core.validators import slug_re

    from portal.accounts.models import Tenant

    # Identifiers are slugs: anything else (undecodable command-line bytes, a NUL) names no tenant, and is not sent
    # to a database that would refuse to encode it.
    tenant = Tenant.objects.filter(slug=slug).first() if slug_re.match(slug) else None
    if tenant is None:
        shown = slug.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise CommandError(f"No tenant with the identifier '{shown}'.")
    return tenant


def write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` (0600 from the start) and rename it into place, so no
    half-written file is ever left behind. ``OSError`` when it cannot, with the temporary file gone."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise


def writable_folder(folder: Path) -> bool:
    """Whether the process can make files in ``folder``, or create it in the nearest folder above that exists."""
    existing = next((path for path in (folder, *folder.parents) if path.exists()), None)
    return existing is not None and existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)
