"""The pages the scale benchmark reads, and its one-request-at-a-time measurements of them."""

import random
import statistics
from dataclasses import dataclass
from typing import Any

from common import log
from scale_http import timed_get
from scale_nodes import Configuration


@dataclass
class Page:
    name: str  # the JSON key
    label: str
    path: str
    cookies: list[str]
    marker: str  # text the page shows when it is the page asked for
    tenant: str | None  # the page's own tenant; None for a page across all tenants


def rounded(value: float) -> float:
    return round(value, 2)


def sequential(
    ports: list[int], page: Page, trials: int, writer: Any, tenants: list[str], rng: random.Random
) -> dict[str, Any]:
    """Warm requests, then write-then-request trials, one request at a time; the wrk warm-up came before.

    Requests go round robin over ``ports`` (the nodes). Each trial is one write, the first request after it (which
    reads what the write changed, on whichever worker takes it), then a second request, on the next node when there
    are several: with a cache per process it may find its own copy stale too; with a shared one, the first request
    left the fresh one for it."""
    bad = 0
    warm = []
    for index in range(trials + 3):
        port = ports[index % len(ports)]
        ms, status = timed_get(port, page.path, page.cookies[index % len(page.cookies)])
        bad += status != 200
        if index >= 3:  # the first few settle the connection pool and the session renewal
            warm.append(ms)
    after_write, second_after_write, writes_failed = [], [], 0
    for index in range(trials):
        record = writer.write(page.tenant or rng.choice(tenants))
        if not record["ok"]:
            writes_failed += 1
            log(f"    write failed: {record['kind']} in {record['tenant']}: {record['error']}")
        for reads, node in ((after_write, index), (second_after_write, index + 1)):
            ms, status = timed_get(ports[node % len(ports)], page.path, page.cookies[node % len(page.cookies)])
            bad += status != 200
            reads.append(ms)
    return {
        "warm_ms": rounded(statistics.median(warm)),
        "first_after_write_ms": rounded(statistics.median(after_write)),
        "first_after_write_max_ms": rounded(max(after_write)),
        "second_after_write_ms": rounded(statistics.median(second_after_write)),
        "sequential_non_200": bad,
        "sequential_writes_failed": writes_failed,
    }


def page_list(tenant: str, support: list[str], admin: list[str], audit_pages: int) -> list[Page]:
    deep = min(1000, audit_pages)
    return [
        Page("expiry_all", "Expiry dashboard, all tenants", "/expiry/", support, "Certificate Expiry", None),
        Page(
            "expiry_within_30",
            "Expiry dashboard, within 30 days",
            "/expiry/?status=within-30",
            support,
            "Expiring",
            None,
        ),
        Page("expiry_tenant", "Expiry dashboard, one tenant", f"/t/{tenant}/expiry/", admin, "Expiry", tenant),
        Page(
            "certificate_list", "Certificate list, one tenant", f"/t/{tenant}/certificates/", admin, "Recording", tenant
        ),
        Page("audit_all", "Audit trail, all tenants", "/audit/", support, "Audit Trail", None),
        Page(
            "audit_page_1000",
            f"Audit trail, page {deep} of {audit_pages}",
            f"/audit/?page={deep}",
            support,
            f"Page {deep} of",
            None,
        ),  # fmt: skip
        Page(
            "audit_filtered",
            "Audit trail, filtered by user and action",
            "/audit/?user=user-007&action=sign-in",
            support,
            "Audit Trail",
            None,
        ),
        Page("audit_tenant", "Audit trail, one tenant", f"/t/{tenant}/audit/", admin, "Audit Trail", tenant),
    ]


def in_turn(configs: list[Configuration], index: int) -> list[Configuration]:
    """The configurations in the order they run for the index-th page: forward, then backward (A B, B A, ...), so
    neither always follows the other's load."""
    return configs if index % 2 == 0 else configs[::-1]


def load_figures(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "p50_ms": rounded(result["p50_us"] / 1000),
        "p95_ms": rounded(result["p95_us"] / 1000),
        "p99_ms": rounded(result["p99_us"] / 1000),
        "requests": result["requests"],
        "non_200": result["non_200"],
        "socket_errors": result["socket_errors"],
        "writes_during": result.get("writes_during", 0),
        **({"rounds_p95_ms": result["rounds_p95_ms"]} if "rounds_p95_ms" in result else {}),
    }


def figures(
    floor_page: Page, pages: list[Page], loaded: dict[str, dict[str, Any]], one_at_a_time: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """One configuration's floor and pages, in the JSON's shape."""
    wsgi, home = loaded["wsgi"], loaded["floor"]
    floor_p95 = home["p95_us"] / 1000
    return {
        "floor": {
            **load_figures(home),
            "ratio_to_wsgi": rounded(home["p95_us"] / max(wsgi["p95_us"], 1)),
            "path": floor_page.path,
            "wsgi_p50_ms": rounded(wsgi["p50_us"] / 1000),
            "wsgi_p95_ms": rounded(wsgi["p95_us"] / 1000),
            **one_at_a_time["floor"],
        },
        "pages": {
            page.name: {
                **load_figures(loaded[page.name]),
                **one_at_a_time[page.name],
                "ratio_p95": rounded(loaded[page.name]["p95_us"] / 1000 / max(floor_p95, 0.001)),
                "path": page.path,
            }
            for page in pages
        },
    }
