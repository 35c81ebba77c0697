"""A fresh checkout for tests that run the portal's commands in their own processes, as a user would.

It holds the project's files as a clone does: no .env, database or master key of the developer's. Its `.venv` is the
virtualenv running the tests, so `.venv/bin/python` works there as in the README.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".env",
    "db.sqlite3",
    "var",
    "staticfiles",
    "__pycache__",
    ".*_cache",
    ".hypothesis",
    "test-results",
)


def fresh_checkout(folder: Path) -> Path:
    checkout = folder / "checkout"
    shutil.copytree(ROOT, checkout, ignore=NOT_IN_A_CLONE)
    (checkout / ".venv").symlink_to(sys.prefix)
    return checkout


def clean_environment(**variables: str) -> dict[str, str]:
    """Only what a fresh shell has: the test run's own settings variables must not leak in."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    env.update(variables)
    return env


def manage(checkout: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`.venv/bin/python manage.py ARGS` in the checkout, with a fresh shell's environment plus ``env``."""
    return subprocess.run(
        [".venv/bin/python", "manage.py", *args],
        cwd=checkout,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
