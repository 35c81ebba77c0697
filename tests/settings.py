"""Test settings: production settings with test-only secrets and plain HTTP for the test servers."""

import atexit
import base64
import os
import shutil
import tempfile
from pathlib import Path

# Production settings even in a checkout where `make run` wrote its development .env (DEBUG=true).
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
# A fixed 32-byte test master key; the keystore's own tests swap in others.
os.environ.setdefault("PORTAL_MASTER_KEY", base64.b64encode(b"T" * 32).decode())
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("EMAIL_URL", "consolemail://")

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; production keeps the default
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

# Several test runs against one PostgreSQL server (developers in parallel) each get their own test database.
if os.environ.get("TEST_DB_SUFFIX"):
    DATABASES["default"]["TEST"] = {"NAME": f"test_portal_{os.environ['TEST_DB_SUFFIX']}"}  # noqa: F405

if DATABASES["default"]["ENGINE"] == "portal.web.postgresql":  # noqa: F405
    # The test runner empties tables with TRUNCATE between tests, which the audit tables refuse unless the table's
    # owner turns this on for the session (portal/audit/migrations/0005). Only the tests do; production never does.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c portal.audit_allow_truncate=on"  # noqa: F405

# Recordings uploaded by the tests wait in a folder of this run's own, removed when it ends.
# Worker processes a test starts are given the folders of the run that started them.
if "PORTAL_RECORDINGS_SPOOL_DIR" not in os.environ:
    PORTAL_RECORDINGS_SPOOL_DIR = Path(tempfile.mkdtemp(prefix="portal-test-spool-"))
    atexit.register(shutil.rmtree, PORTAL_RECORDINGS_SPOOL_DIR, ignore_errors=True)
if "PORTAL_JOBS_DIR" not in os.environ:
    PORTAL_JOBS_DIR = Path(tempfile.mkdtemp(prefix="portal-test-jobs-"))
    atexit.register(shutil.rmtree, PORTAL_JOBS_DIR, ignore_errors=True)
