"""Plumbing shared by the management commands."""

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

    from portal.accounts.models import Tenant

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"No tenant with the identifier '{slug}'.")
    return tenant
