"""The recordings benchmark's throwaway portal and its measured processes: a temporary SQLite database with
production settings, set up with the operator's commands, and each command or openssl run timed with its own peak
memory (wait4's ru_maxrss)."""

import hashlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MIB = 1 << 20
TENANT = "bench"


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    peak_mib: float  # the process's maximum resident set
    stdout: str


class BenchError(Exception):
    """A step failed: the benchmark cannot measure."""


def portal_env(root: Path) -> dict[str, str]:
    """Production settings on a database and master-key file of this run's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "DATABASE_URL", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="localhost",
        DATABASE_URL=f"sqlite:///{root / 'portal.sqlite3'}",
        PORTAL_MASTER_KEY="",
        PORTAL_MASTER_KEY_FILE=str(root / "master.key"),
        PORTAL_PREVIOUS_MASTER_KEY="",
        PORTAL_PREVIOUS_MASTER_KEY_FILE="",
    )
    return env


def manage(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "manage.py"), *args]


def check(args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args[:4])} ... failed ({done.returncode}): {done.stderr.strip()[-600:]}")
    return done.stdout


class Started:
    """A measured process: its own peak memory comes from wait4, so one parent can run several at once."""

    def __init__(self, args: Sequence[str], *, env: dict[str, str], logs: Path) -> None:
        self.args = list(args)
        self.out_path = logs.with_suffix(".out")
        self.err_path = logs.with_suffix(".err")
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.start = time.perf_counter()
            self.process = subprocess.Popen(self.args, stdout=out, stderr=err, env=env, cwd=logs.parent)

    def finish(self) -> Run:
        _, status, usage = os.wait4(self.process.pid, 0)
        wall = time.perf_counter() - self.start
        self.process.returncode = os.waitstatus_to_exitcode(status)
        if self.process.returncode != 0:
            raise BenchError(
                f"{' '.join(self.args[1:3])} exited {self.process.returncode}: "
                f"{self.err_path.read_text(errors='replace').strip()[-600:]}"
            )
        return Run(wall, usage.ru_maxrss / 1024, self.out_path.read_text(errors="replace"))


def measure(args: Sequence[str], *, env: dict[str, str], logs: Path) -> Run:
    return Started(args, env=env, logs=logs).finish()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def random_file(path: Path, size: int) -> str:
    """``size`` random bytes (recordings are compressed audio: nothing to gain from patterns); returns the SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for offset in range(0, size, MIB):
            chunk = os.urandom(min(MIB, size - offset))
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def encrypt(plain: Path, recording: Path, cert: Path) -> None:
    """As the recording platform writes one: a fresh AES-256 key wrapped for the tenant's certificate."""
    check(["openssl", "cms", "-encrypt", "-binary", "-aes-256-cbc", "-outform", "DER",
           "-in", str(plain), "-out", str(recording), str(cert)])  # fmt: skip


def only_output(folder: Path) -> Path:
    found = [path for path in folder.rglob("*") if path.is_file()]
    if len(found) != 1:
        raise BenchError(f"expected one decrypted file under {folder}, found {len(found)}")
    return found[0]


def set_up(root: Path, env: dict[str, str]) -> tuple[Path, Path]:
    """The tenant with one key, as an operator sets it up; returns the certificate and key files."""
    check(manage("init_master_key"), env=env)  # the start-up check asks for it before anything else runs
    check(manage("migrate", "--no-input"), env=env)
    check(manage("create_tenant", TENANT, "--name", "Benchmark tenant"), env=env)
    cert, key = root / "tenant.pem", root / "tenant.key"
    check(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
           "-subj", "/CN=Genesys Recording/C=US/ST=California/O=Genesys",
           "-keyout", str(key), "-out", str(cert)])  # fmt: skip
    check(manage("import_certificate", "--tenant", TENANT, str(cert), str(key)), env=env)
    return cert, key


def command_exists(env: dict[str, str]) -> bool:
    return subprocess.run(manage("help", "decrypt_recordings"), env=env, capture_output=True).returncode == 0


def ours(inputs: Sequence[Path], out: Path) -> list[str]:
    return manage("decrypt_recordings", "--tenant", TENANT, "--out", str(out), *map(str, inputs))
