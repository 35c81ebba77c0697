"""The Local Key Manager benchmark's throwaway portal and its client: a PostgreSQL database of its own on 127.0.0.1,
production settings, the operator's commands (init_master_key, migrate, create_tenant, create_lkm_credential),
gunicorn serving it; Hawk-signed requests sent over plain sockets; the CPU time each side used, read from /proc."""

import base64
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from mohawk import Sender  # type: ignore[import-untyped]
from recordings_setup import REPO, TENANT, BenchError, check, manage, portal_env

SERVER_URL = "postgres://postgres@127.0.0.1:5432"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
DECRYPT_PATH = "/key-management/v1/decrypt"
KEYPAIR_PATH = "/key-management/v1/keypair"
USER_ID = "benchmark-user"  # PureCloud-User-Id: the Genesys user the portal audits
DEK_POOL = 256  # distinct data keys, encrypted once each and sent in turn
REQUEST_TIMEOUT_S = 30.0


def admin_sql(statement: str) -> None:
    check(["psql", f"{SERVER_URL}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-c", statement])


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """A database named after this process, dropped on the way out whatever happened; yields its URL."""
    name = f"lkm_bench_{os.getpid()}"
    admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # a run that was killed outright under the same pid
    admin_sql(f"CREATE DATABASE {name}")
    try:
        yield f"{SERVER_URL}/{name}"
    finally:
        try:
            admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except BenchError as error:
            print(f"Could not drop the database {name}: {error}", file=sys.stderr)


def database_backends(database_url: str) -> list[int]:
    """The server processes holding the portal's connections (persistent: CONN_MAX_AGE)."""
    sql = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    return [int(pid) for pid in check(["psql", database_url, "-Atc", sql]).split()]


def lkm_env(root: Path, database_url: str) -> dict[str, str]:
    """Production settings on this run's database and master-key file, over plain HTTP on 127.0.0.1; the Hawk MAC
    covers the request's own host and port (no LKM_PUBLIC_URL)."""
    env = {k: v for k, v in portal_env(root).items() if not k.startswith("LKM_")}
    env.update(
        DATABASE_URL=database_url,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        LOG_LEVEL="WARNING",
    )
    return env


def set_up_lkm(env: dict[str, str]) -> dict[str, str]:
    """The tenant and its Hawk credential, as an operator sets them up; returns mohawk's credentials."""
    check(manage("init_master_key"), env=env)
    check(manage("migrate", "--no-input"), env=env)
    check(manage("create_tenant", TENANT, "--name", "Benchmark tenant"), env=env)
    printed = check(manage("create_lkm_credential", "--tenant", TENANT), env=env).strip().splitlines()
    try:
        credential = json.loads(printed[-1])
        return {"id": str(credential["id"]), "key": str(credential["authKey"]), "algorithm": credential["algorithm"]}
    except (IndexError, ValueError, KeyError, TypeError):
        raise BenchError("create_lkm_credential did not print a JSON line with id, authKey and algorithm") from None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers_http(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return conn.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


class Gunicorn:
    """gunicorn with sync workers on 127.0.0.1, in a process group of its own so that stopping it stops every
    worker; its output goes to ``log``."""

    def __init__(self, app: str, workers: int, *, env: dict[str, str], log: Path, cwd: Path = REPO) -> None:
        self.port = free_port()
        self.log = log
        args = [sys.executable, "-m", "gunicorn", app, "-b", f"127.0.0.1:{self.port}", "-w", str(workers), "-k", "sync"]
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                args, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    def __enter__(self) -> "Gunicorn":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.process.returncode}): {self.log_tail()}")
            if answers_http(self.port):
                return
            time.sleep(0.3)
        raise BenchError(f"gunicorn did not answer within {START_TIMEOUT_S:.0f} s: {self.log_tail()}")

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace").strip()[-600:]

    def processes(self) -> list[int]:
        """The master and its workers."""
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_S)


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = proc_stat(int(entry.name))
            if fields and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def proc_stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (which may hold spaces): state, ppid, ...; empty if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU time the processes have used so far (those gone count nothing)."""
    total = 0
    for pid in pids:
        fields = proc_stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS_PER_S


def machine_busy_seconds() -> float:
    """CPU time every core of the machine has spent not idle since boot, all processes together."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICKS_PER_S  # guest time is already inside user time


@dataclass(frozen=True)
class CpuUse:
    server: float  # gunicorn master and workers
    database: float  # the PostgreSQL backends serving them
    client: float  # this process
    machine: float  # every core, every process

    @classmethod
    def now(cls, server: Sequence[int], database: Sequence[int]) -> "CpuUse":
        own = os.times()
        return cls(cpu_seconds(server), cpu_seconds(database), own.user + own.system, machine_busy_seconds())

    def __sub__(self, earlier: "CpuUse") -> "CpuUse":
        return CpuUse(
            self.server - earlier.server,
            self.database - earlier.database,
            self.client - earlier.client,
            self.machine - earlier.machine,
        )

    def __add__(self, other: "CpuUse") -> "CpuUse":
        return CpuUse(
            self.server + other.server,
            self.database + other.database,
            self.client + other.client,
            self.machine + other.machine,
        )


def oaep_sha1() -> padding.OAEP:
    """The Local Key Manager's default padding: RSA-OAEP with SHA-1 and MGF1-SHA-1."""
    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


@dataclass(frozen=True)
class Signed:
    request: bytes  # the whole HTTP request, Hawk header included
    dek: bytes  # the data key the answer must carry


class Client:
    """Hawk-signed requests to one portal, each with its own nonce, made ahead of the time they are sent."""

    def __init__(self, port: int, credentials: dict[str, str]) -> None:
        self.port = port
        self.credentials = credentials
        self.keypair_id = ""
        self.encrypted: list[tuple[str, bytes]] = []  # (base64 ciphertext, data key)

    def sign(self, method: str, path: str, body: bytes = b"", content_type: str = "") -> bytes:
        url = f"http://127.0.0.1:{self.port}{path}"
        if body:
            sender = Sender(self.credentials, url, method, content=body, content_type=content_type)
        else:
            sender = Sender(self.credentials, url, method, always_hash_content=False)
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            f"Authorization: {sender.request_header}",
            f"PureCloud-User-Id: {USER_ID}",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        if content_type:
            head.append(f"Content-Type: {content_type}")
        return "\r\n".join(head).encode() + b"\r\n\r\n" + body

    def create_keypair(self) -> None:
        """POST /keypair, then data keys encrypted to its public key as the recording platform does."""
        status, body = parse(exchange(self.port, self.sign("POST", KEYPAIR_PATH)))
        if status != 200:
            raise BenchError(f"POST {KEYPAIR_PATH} answered {status or 'nothing'}: {snippet(body)}")
        try:
            made = json.loads(body)
            public = serialization.load_der_public_key(base64.b64decode(made["publicKey"], validate=True))
            self.keypair_id = str(made["id"])
        except (ValueError, KeyError, TypeError):
            raise BenchError(f"POST {KEYPAIR_PATH}'s answer lacks an id and a base64 DER public key") from None
        if not isinstance(public, rsa.RSAPublicKey) or public.key_size != 3072:
            raise BenchError(f"POST {KEYPAIR_PATH} made a key other than RSA-3072")
        for _ in range(DEK_POOL):
            dek = os.urandom(32)
            self.encrypted.append((base64.b64encode(public.encrypt(dek, oaep_sha1())).decode(), dek))

    def presign(self, count: int) -> list[Signed]:
        signed = []
        for index in range(count):
            ciphertext, dek = self.encrypted[index % DEK_POOL]
            body = json.dumps({"keypairId": self.keypair_id, "body": ciphertext}).encode()
            signed.append(Signed(self.sign("POST", DECRYPT_PATH, body, "application/json"), dek))
        return signed


def exchange(port: int, request: bytes) -> bytes:
    """One request on a connection of its own (sync workers close each after answering); the whole answer, or
    why there was none."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT_S) as conn:
            conn.sendall(request)
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)
    except OSError as error:
        return f"no answer: {error}".encode()


def parse(raw: bytes) -> tuple[int, bytes]:
    """The status (0 when there was no HTTP answer) and the body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    try:
        if not head.startswith(b"HTTP/"):
            raise ValueError
        status = int(head[9:12])
    except ValueError:
        return 0, raw
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    return status, body


def dechunk(body: bytes) -> bytes:
    parts = []
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        parts.append(rest[:size])
        body = rest[size + 2 :]
    return b"".join(parts)


def snippet(body: bytes) -> str:
    return " ".join(body.decode(errors="replace").split())[:160]


def wrong_answers(sent: Sequence[Signed], answers: Sequence[bytes]) -> tuple[int, list[str]]:
    """How many answers are not 200 with the request's data key, and the first few of them (never a key)."""
    wrong = 0
    examples: list[str] = []
    for signed, raw in zip(sent, answers, strict=True):
        status, body = parse(raw)
        if status == 200:
            try:
                if base64.b64decode(json.loads(body)["body"], validate=True) == signed.dek:
                    continue
                problem = "200 with another key"
            except (ValueError, KeyError, TypeError):
                problem = "200 without a base64 body"
        else:
            problem = f"{status or 'no answer'}: {snippet(body)}"
        wrong += 1
        if len(examples) < 3:
            examples.append(problem)
    return wrong, examples


def sequential(port: int, requests: Sequence[Signed]) -> tuple[list[bytes], list[float]]:
    """One client: each request sent once the previous one is answered; the answers and each one's time."""
    answers, times = [], []
    for signed in requests:
        start = time.perf_counter()
        answers.append(exchange(port, signed.request))
        times.append(time.perf_counter() - start)
    return answers, times


def concurrent(
    port: int, requests: Sequence[Signed], clients: int, seconds: float
) -> tuple[list[Signed], list[bytes], list[float], float]:
    """``clients`` threads, each sending its share of ``requests`` one after the other until ``seconds`` have
    passed (or its share is used up); the requests sent, their answers and times, and the time until the last
    answer."""
    shares = [requests[index::clients] for index in range(clients)]
    done: list[list[tuple[Signed, bytes, float]]] = [[] for _ in shares]
    gate = threading.Barrier(clients + 1)
    deadline = 0.0

    def client(share: Sequence[Signed], out: list[tuple[Signed, bytes, float]]) -> None:
        gate.wait()
        for signed in share:
            start = time.perf_counter()
            if start >= deadline:
                break
            answer = exchange(port, signed.request)
            out.append((signed, answer, time.perf_counter() - start))

    threads = [threading.Thread(target=client, args=pair, daemon=True) for pair in zip(shares, done, strict=True)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    deadline = start + seconds
    gate.wait()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT_S + 10)
    elapsed = time.perf_counter() - start
    if any(thread.is_alive() for thread in threads):
        raise BenchError("a client thread did not finish in time")
    finished = [entry for out in done for entry in out]
    return [e[0] for e in finished], [e[1] for e in finished], [e[2] for e in finished], elapsed


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    rank = math.ceil(len(ordered) * share / 100)
    return ordered[min(max(rank, 1), len(ordered)) - 1]
