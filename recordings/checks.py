"""Start-up check: the spool where uploaded recordings wait for their download must be a folder the portal can
write, or every decryption on the page would fail."""

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register("recordings")
def check_spool(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    spool = Path(settings.PORTAL_RECORDINGS_SPOOL_DIR)
    existing = next((folder for folder in (spool, *spool.parents) if folder.exists()), None)
    if existing is not None and existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
        return []
    return [
        Error(
            f"The recordings spool {spool} is not a folder the portal can write.",
            hint="Set PORTAL_RECORDINGS_SPOOL_DIR to a writable folder (uploaded recordings wait there, encrypted).",
            id="recordings.E001",
        )
    ]
