"""Start-up check: job results are written under PORTAL_JOBS_DIR, which must be a folder the portal can write, or
every job with a result file would fail at its end."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from portal.cli import writable_folder


@register("jobs")
def check_jobs_dir(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    folder = Path(settings.PORTAL_JOBS_DIR)
    if writable_folder(folder):
        return []
    return [
        Error(
            f"The jobs folder {folder} is not a folder the portal can write.",
            hint="Set PORTAL_JOBS_DIR to a writable folder (results of background jobs wait there for their download).",
            id="jobs.E001",
        )
    ]
