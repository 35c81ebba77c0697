"""LKM_PUBLIC_URL is checked at start-up: a value that is not a bare origin would make every Hawk MAC fail."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize(
    "value",
    ["", "https://lkm.example.com", "https://lkm.example.com:8443", "http://127.0.0.1:8000/", "https://[::1]:443"],
)
def test_a_bare_origin_or_nothing_passes(value):
    with override_settings(LKM_PUBLIC_URL=value):
        assert [m for m in checks.run_checks(tags=["lkm"]) if m.id == "lkm.E001"] == []


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("lkm.example.com", "must be an http or https URL with a host"),
        ("ftp://lkm.example.com", "must be an http or https URL with a host"),
        ("https://lkm.example.com/key-management/v1", "must name only the scheme, host and port"),
        ("https://user@lkm.example.com", "must name only the scheme, host and port"),
        ("https://lkm.example.com?x=1", "must name only the scheme, host and port"),
        ("https://lkm.example.com:99999", "is not a URL"),
    ],
)
def test_anything_else_is_named_in_one_line(value, words):
    with override_settings(LKM_PUBLIC_URL=value):
        found = [m for m in checks.run_checks(tags=["lkm"]) if m.id == "lkm.E001"]
    assert len(found) == 1 and found[0].is_serious()
    assert words in found[0].msg and "\n" not in found[0].msg


def test_gunicorn_refuses_to_load_the_portal_with_a_bad_public_url():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "LKM_PUBLIC_URL": "https://lkm.example.com/decrypt",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import portal.wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "lkm.E001" in done.stderr and "Traceback" not in done.stderr
