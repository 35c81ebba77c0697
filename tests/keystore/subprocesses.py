"""Run the portal's commands in their own processes against a file database, as an operator would."""

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OLD_KEY = base64.b64encode(b"1" * 32).decode()
NEW_KEY = base64.b64encode(b"2" * 32).decode()

SEED = """
import django, sys
django.setup()
from portal.accounts.models import Tenant
from keystore import envelope
from keystore.sealing import store_private_key, tenant_aad
from keystore.masterkey import current_master_key
from keystore.models import TenantKey
from tests.keystore.helpers import certificate, der, rsa_key

count, with_entries = int(sys.argv[1]), int(sys.argv[2])
master = current_master_key()
tenants = Tenant.objects.bulk_create([Tenant(slug=f"t{i:05d}", name=f"Tenant {i}") for i in range(count)])
keys = [rsa_key(i % 3) for i in range(3)]
for i, tenant in enumerate(tenants):
    if i < with_entries:
        key = keys[i % 3]
        store_private_key(tenant, alias=f"rec-{i}", certificate_der=der(certificate(key, f"T{i}")), private_key=key)
rows = [
    TenantKey(tenant=t, wrapped_key=master.wrap(envelope.new_key(), tenant_aad(t.pk)),
              master_key_id=master.key_id)
    for t in tenants[with_entries:]
]
TenantKey.objects.bulk_create(rows, batch_size=500)
print(master.key_id)
"""

VERIFY = """
import django
django.setup()
from cryptography import x509
from keystore.sealing import open_private_key
from keystore.models import KeystoreEntry
opened = 0
for entry in KeystoreEntry.objects.select_related("tenant"):
    key = open_private_key(entry)
    cert_public = x509.load_der_x509_certificate(bytes(entry.certificate_der)).public_key()
    assert cert_public.public_numbers() == key.public_key().public_numbers(), entry.alias
    opened += 1
print(opened)
"""


def environment(db: Path, current: str, previous: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DATABASE_URL", "TEST_DB"))}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.settings",
        DATABASE_URL=f"sqlite:///{db}",
        PORTAL_MASTER_KEY=current,
        PYTHONPATH=str(REPO),
    )
    if previous:
        env["PORTAL_PREVIOUS_MASTER_KEY"] = previous
    return env


def run(args: list[str], env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def manage(db: Path, *args: str, current: str = OLD_KEY, previous: str = "") -> subprocess.CompletedProcess:
    return run(["manage.py", *args], environment(db, current, previous))


def migrated_database(folder: Path, template: list[Path] = []) -> Path:  # noqa: B006 - a cache on purpose
    """A migrated SQLite file (migrated once per test run, then copied)."""
    if not template:
        source = folder.parent / "template.sqlite3"
        if not source.exists():
            result = manage(source, "migrate", "--noinput")
            assert result.returncode == 0, result.stderr
        template.append(source)
    db = folder / "portal.sqlite3"
    shutil.copy(template[0], db)
    return db
