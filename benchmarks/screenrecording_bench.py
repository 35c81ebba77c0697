"""How the Screen Recording Certificates page and an IVR profile page grow with the tenant's certificates.

Both pages check certificates "now": the screen-recording page offers in Select Certificate only those valid now and
passing chain validation against the tenant's current root CAs (one parse and one signature check each), and the
IVR profile page checks each assigned certificate. This measures the page as the tenant administrator and the
professional load it, in-process through Django's test client, for 25, 100 and 250 active certificates, half of them
issued by a root CA (a signature check against the root) and half self-signed; 10 on the screen-recording list and
10 on the "record" profile.

Run: .venv/bin/python benchmarks/screenrecording_bench.py [--requests N]
Uses a temporary SQLite database; nothing outside the temporary folder is touched.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZES = (25, 100, 250)
ON_LISTS = 10


def setup_django(folder: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(slug: str, count: int) -> tuple[object, object]:
    from ivr.models import IvrAssignment, IvrProfile
    from portal.accounts.models import Role, Tenant
    from screenrecording.models import ScreenRecordingCertificate
    from tests.certificates import pki
    from tests.conftest import make_user
    from tests.ivr import factories

    tenant = Tenant.objects.create(slug=slug, name=slug)
    admin = make_user(f"{slug}-admin", Role.TENANT_ADMIN, tenant)
    professional = make_user(f"{slug}-pro", Role.PROFESSIONAL, tenant)
    ca_cert, ca_key = pki.make_ca("Bench Root CA")
    factories.add_root(tenant, ca_cert)
    key = pki.make_key(2048, 2)
    certificates = []
    for index in range(count):
        if index % 2:
            cert, _ = pki.issue(ca_cert, ca_key, f"Recording {index}", key=key, serial=10_000 + index)
            certificates.append(factories.store(tenant, cert, key, f"{slug}-issued-{index}", roots=[pki.der(ca_cert)]))
        else:
            certificates.append(factories.make_certificate(tenant, f"{slug}-self-{index}"))
    profile = IvrProfile.objects.get(tenant=tenant, name="record")
    for cert in certificates[:ON_LISTS]:
        ScreenRecordingCertificate.objects.create(tenant=tenant, certificate=cert)
        IvrAssignment.objects.create(tenant=tenant, profile=profile, certificate=cert)
    return admin, professional


def median_ms(client: object, url: str, requests: int) -> tuple[float, float]:
    timings = []
    for _ in range(3):
        assert client.get(url).status_code == 200  # type: ignore[attr-defined]
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        setup_django(folder)
        from django.test import Client

        from ivr.models import IvrProfile

        columns = [
            "Active certificates",
            "Screen Recording Certificates page, median (p95)",
            "IVR profile page, median (p95)",
        ]
        print("| " + " | ".join(columns) + " |")
        print("|---|---|---|")
        for size in SIZES:
            slug = f"bench-{size}"
            admin, professional = populate(slug, size)
            admin_client, professional_client = Client(), Client()
            admin_client.force_login(admin)  # type: ignore[arg-type]
            professional_client.force_login(professional)  # type: ignore[arg-type]
            profile = IvrProfile.objects.get(tenant__slug=slug, name="record")
            screen = median_ms(admin_client, f"/t/{slug}/screen-recording/", args.requests)
            ivr = median_ms(professional_client, f"/t/{slug}/ivr-profiles/{profile.pk}/", args.requests)
            print(f"| {size} | {screen[0]:.1f} ms ({screen[1]:.1f}) | {ivr[0]:.1f} ms ({ivr[1]:.1f}) |", flush=True)


if __name__ == "__main__":
    main()
