"""Start-up check: the spool where uploaded recordings wait for their download must be a folder the portal can
write, or every decryption on the page would fail."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from portal.cli import writable_folder


@register("recordings")
def check_spool(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    spool = Path(settings.PORTAL_RECORDINGS_SPOOL_DIR)
    if writable_folder(spool):
        return []
    return [
        Error(
            f"The recordings spool {spool} is not a folder the portal can write.",
            hint="Set PORTAL_RECORDINGS_SPOOL_DIR to a writable folder (uploaded recordings wait there, encrypted).",
            id="recordings.E001",
        )
    ]
