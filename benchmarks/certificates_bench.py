"""Recording certificate upload speed.

1. Parsing and validating one upload in-process (certificate + key, with the tenant's duplicate, chain and alias
   checks against the database): target median under 5 ms.
2. The preview request as the browser makes it: a multipart POST of the certificate and key files with the CSRF
   token and session cookie, to gunicorn on 127.0.0.1, answered with JSON: target median under 50 ms.

Run: .venv/bin/python benchmarks/certificates_bench.py [--uploads N] [--requests N]
Uses a temporary SQLite database; nothing outside the temporary folder is touched.
"""

import argparse
import http.cookiejar
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UPLOAD_TARGET_MS = 5.0
PREVIEW_TARGET_MS = 50.0
USERNAME = "bench-admin"
PASSWORD = "bench password that is long enough 42"


def timings(action: Callable[[], object], count: int, warmup: int = 10) -> list[float]:
    for _ in range(warmup):
        action()
    result = []
    for _ in range(count):
        start = time.perf_counter()
        action()
        result.append((time.perf_counter() - start) * 1000)
    return result


def report(name: str, values: list[float], target: float) -> bool:
    values = sorted(values)
    median = statistics.median(values)
    p95 = values[int(len(values) * 0.95) - 1]
    ok = median < target
    verdict = "OK" if ok else "SLOW"
    print(f"{name}: n={len(values)} median={median:.2f} ms p95={p95:.2f} ms (target < {target:.0f} ms: {verdict})")
    return ok


def setup_django(database: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_files(folder: Path) -> tuple[bytes, bytes]:
    """The seed's files, made with the seed's openssl commands."""
    subj = "/CN=Genesys Recording/C=US/ST=California/O=Genesys"
    subprocess.run(["openssl", "genrsa", "-out", "tenant.key", "2048"], cwd=folder, check=True, capture_output=True)
    subprocess.run(
        ["openssl", "req", "-new", "-x509", "-key", "tenant.key", "-out", "tenant.pem", "-days", "3650", "-subj", subj],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return (folder / "tenant.pem").read_bytes(), (folder / "tenant.key").read_bytes()


def bench_in_process(certificate: bytes, key: bytes, count: int) -> bool:
    """The whole validation, and its two halves: the certificate (parser, duplicate, chain, alias) and the key
    (the keystore's key-file reading, which includes OpenSSL's RSA key validation)."""
    from certificates import upload as uploads
    from portal.accounts.models import Tenant

    tenant = Tenant.objects.get(slug="bench")

    def certificate_only() -> object:
        checked = uploads.check_certificate(tenant, certificate)
        return uploads.propose_alias(tenant, checked.parsed)

    def key_only() -> object:
        return uploads.open_key(key, None)

    def validate() -> object:
        return uploads.validate_upload(tenant, certificate_data=certificate, key_data=key, password=None, alias=None)

    ok = report("certificate parse + tenant checks (in-process)", timings(certificate_only, count), UPLOAD_TARGET_MS)
    report("key file check (in-process, keystore)", timings(key_only, max(count // 3, 20)), UPLOAD_TARGET_MS)
    whole = report("parse + validate one upload (in-process)", timings(validate, max(count // 3, 20)), UPLOAD_TARGET_MS)
    return ok and whole


def seed_user() -> None:
    from portal.accounts.models import Role, Tenant, User

    tenant = Tenant.objects.create(slug="bench", name="Benchmark Tenant")
    user = User(username=USERNAME, role=Role.TENANT_ADMIN)
    user.set_password(PASSWORD)
    user.save()
    user.tenants.set([tenant])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our own server on 127.0.0.1
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        header = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(header.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def bench_preview(base: str, certificate: bytes, key: bytes, count: int) -> bool:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def csrf_from(page: str) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found, "no CSRF token on the page"
        return found[1]

    login_page = opener.open(f"{base}/accounts/login/").read().decode()
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": csrf_from(login_page), "username": USERNAME, "password": PASSWORD}
    ).encode()
    opener.open(urllib.request.Request(f"{base}/accounts/login/", data=body, headers={"Referer": base}))
    upload_page = opener.open(f"{base}/t/bench/certificates/upload/").read().decode()
    token = csrf_from(upload_page)

    def preview_of(files: dict[str, tuple[str, bytes]]) -> Callable[[], object]:
        data, content_type = multipart({"csrfmiddlewaretoken": token}, files)
        headers = {"Content-Type": content_type, "Accept": "application/json", "Referer": base}

        def preview() -> object:
            request = urllib.request.Request(f"{base}/t/bench/certificates/upload/preview/", data=data, headers=headers)
            answer = json.loads(opener.open(request).read())
            assert answer["errors"] == {}, answer
            return answer

        return preview

    # As the page sends them: the certificate alone when it is chosen, then both when the key is chosen.
    certificate_file = {"certificate_file": ("tenant.pem", certificate)}
    both = {**certificate_file, "key_file": ("tenant.key", key)}
    ok = report(
        "preview over HTTP, certificate chosen", timings(preview_of(certificate_file), count), PREVIEW_TARGET_MS
    )
    report("preview over HTTP, key chosen (certificate + key)", timings(preview_of(both), count), PREVIEW_TARGET_MS)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        database = folder / "bench.sqlite3"
        setup_django(database)
        seed_user()
        certificate, key = make_files(folder)
        ok = bench_in_process(certificate, key, args.uploads)

        port = free_port()
        env = {**os.environ, "LOG_LEVEL": "WARNING"}
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/accounts/login/", server)
            ok = bench_preview(base, certificate, key, args.requests) and ok
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
