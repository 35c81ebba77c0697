"""Serving and driving pages for the scale benchmark: gunicorn on 127.0.0.1, wrk under load, single timed requests."""

import http.client
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

WRK_SCRIPT = """
-- Rotate this thread's session cookies, stop after a bounded number of requests, count answers other than 200.
-- With several nodes (node_ports), thread i sends its connections to node i.
local threads = {}
local counter = 1
local node_ports = {NODE_PORTS}

function setup(thread)
  thread:set("id", counter)
  if #node_ports > 0 then
    thread.addr = wrk.lookup("127.0.0.1", tostring(node_ports[((counter - 1) % #node_ports) + 1]))[1]
  end
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  cookies = {}
  for cookie in string.gmatch(args[1], "[^,]+") do table.insert(cookies, cookie) end
  limit = tonumber(args[2])
  sent, done_count, bad = 0, 0, 0
end

function request()
  sent = sent + 1
  local cookie = cookies[((sent + id) % #cookies) + 1]
  return wrk.format("GET", nil, {["Cookie"] = "sessionid=" .. cookie})
end

function response(status, headers, body)
  done_count = done_count + 1
  if status ~= 200 then bad = bad + 1 end
  if done_count >= limit then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do bad_total = bad_total + thread:get("bad") end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "mean_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "non_200": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency.mean, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, bad_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk_script(ports: list[int] | None = None) -> str:
    """The Lua script for wrk; with ``ports``, one wrk thread per port, each thread's connections to its own port."""
    return WRK_SCRIPT.replace("{NODE_PORTS}", "{" + ", ".join(str(port) for port in ports or []) + "}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, cookie: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  (http://127.0.0.1 only)
        return response.status, response.read().decode()


def timed_get(port: int, path: str, cookie: str) -> tuple[float, int]:
    """One request on a new connection, as a browser's first: milliseconds to the last byte, and the status."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
        response = connection.getresponse()
        response.read()
        status = response.status
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000, status


def serve(app: str, port: int, workers: int, env: dict[str, str], chdir: Path | None = None) -> subprocess.Popen[bytes]:
    """gunicorn on 127.0.0.1 with sync workers; ``chdir``: the folder ``app`` is imported from (the checkout)."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),  # the virtualenv running this script
            app,
            *([f"--chdir={chdir}"] if chdir else []),
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--worker-class=sync",
            "--backlog=64",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(url: str, server: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.stderr.read().decode() if server.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer in time")


def run_wrk(
    url: str, cookies: list[str], requests: int, seconds: int, script: Path, connections: int, threads: int = 1
) -> dict[str, float]:
    """``threads``: one per node, with a script from ``wrk_script(ports)``; ``requests`` is shared among them.

    One wrk thread drives all the connections of one node (it keeps up easily). With two on one node, the thread
    that reaches its share of the request bound first stops but keeps its sockets open until wrk exits; gunicorn's
    sync workers wait up to 2 s for the client to close after each answer (RFC 9112 graceful close), so each such
    socket held a worker, and the other thread's requests measured that wait: one- and two-second stalls that no
    real client, which closes once answered, causes. A thread per node holds only its own node's workers."""
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--timeout=10s",
        "--latency",
        f"--script={script}",
        url,
        "--",
        ",".join(cookies),
        str(max(1, -(-requests // threads))),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    # Closed loop (each client sends its next request when the last is answered): throughput is clients over the
    # mean latency. wrk's own duration keeps running after the request bound stops its threads.
    result["rps"] = connections * 1e6 / max(result["mean_us"], 1)
    return result


def merged(runs: list[dict[str, float]]) -> dict[str, Any]:
    """Rounds of one page's wrk runs as one: the median of each latency figure, the sum of each count, and each
    round's p95 (ms) in ``rounds_p95_ms``."""
    if len(runs) == 1:
        return runs[0]
    result: dict[str, Any] = {
        key: statistics.median(run[key] for run in runs) for key in ("mean_us", "p50_us", "p95_us", "p99_us", "rps")
    }
    for key in ("requests", "non_200", "socket_errors", "writes_during", "writes_failed_during"):
        result[key] = sum(run.get(key, 0) for run in runs)
    result["max_us"] = max(run["max_us"] for run in runs)
    result["rounds_p95_ms"] = [round(run["p95_us"] / 1000, 2) for run in runs]
    return result
