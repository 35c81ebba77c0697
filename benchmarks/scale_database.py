"""The scale benchmark's database: made, seeded and sized, with the settings and master key a run serves it with."""

import argparse
import os
import random
import secrets
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from common import log
from scale_data import existing_seed, seed

DB_NAME = "portal_scale_bench"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"


def admin_sql(statement: str) -> None:
    subprocess.run(["psql", SERVER_URL + "/postgres", "-q", "-c", statement], check=True)


def master_key_file(database: str) -> Path:
    """Where a database's master key waits for a --reuse run: the writes seal keys under it, and the portal refuses
    to start with another one. A throwaway key for throwaway data, readable by its owner only."""
    return Path(tempfile.gettempdir()) / f"{database}.master-key"


def environment(database: str, master_key: str) -> dict[str, str]:
    """Production settings: DEBUG off, a real secret and master key, plain HTTP on 127.0.0.1 only."""
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "DATABASE_URL": f"{SERVER_URL}/{database}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "PORTAL_MASTER_KEY": master_key,
        "LOG_LEVEL": "WARNING",
    }


def seed_database(args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command, get_commands

    if args.reuse:
        seeded = existing_seed()
    else:
        log(
            f"Seeding {args.tenants:,} tenants x {args.certs_per_tenant:,} certificates, "
            f"{args.audit:,} audit entries ..."
        )
        started = time.perf_counter()
        seeded = seed(
            random.Random(20_000),
            tenant_count=args.tenants,
            per_tenant=args.certs_per_tenant,
            audit_entries=args.audit,
        )
        log(f"  seeded in {time.perf_counter() - started:.1f} s")
    if "rebuild_expiry_summaries" in get_commands():
        started = time.perf_counter()
        call_command("rebuild_expiry_summaries", stdout=open(os.devnull, "w"))  # noqa: SIM115
        log(f"  rebuild_expiry_summaries: {time.perf_counter() - started:.1f} s")
    return seeded


def database_size() -> dict[str, int]:
    """What the database holds: a reused one may differ from the options."""
    from certificates.models import Certificate
    from portal.accounts.models import Tenant
    from portal.audit.models import AuditHead

    head = AuditHead.objects.filter(pk=1).first()
    return {
        "tenants": Tenant.objects.count(),
        "certificates": Certificate.objects.count(),
        "audit": head.count if head else 0,
    }
