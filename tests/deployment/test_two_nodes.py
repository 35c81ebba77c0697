"""Two nodes: two gunicorn servers on ports of their own, on the same PostgreSQL database and the same Redis, as
behind a load balancer. What one node does, the other sees at once: pages, sessions, sign-in lockouts, Local Key
Manager nonces; and periodic commands started on both at the same moment act once per item."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from expiry.models import ExpiryNotification
from lkm.credentials import issue_credential, revoke_credential
from lkm.models import Keypair, Period
from lkm.rotation import set_period
from portal.accounts.models import Role, Tenant
from portal.audit.log import COMMAND
from portal.audit.models import AuditEntry
from tests.conftest import PASSWORD, make_user
from tests.factories import make_certificate, seed_files
from tests.live import Browser
from tests.lkm.live_lkm import HawkClient, send

from .nodes import gunicorn_node, run_together
from .redis_db import REDIS, own_prefix

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="two nodes share a database server: PostgreSQL only",
)

PUBLIC_URL = "https://lkm.example.com"  # both nodes behind one TLS proxy: Hawk MACs cover this, not their ports


@dataclass
class Node:
    url: str
    env: dict[str, str]
    log: Path


@pytest.fixture(scope="module")
def nodes(django_db_setup, tmp_path_factory) -> Iterator[tuple[Node, Node]]:
    """Two nodes on this run's test database, with the master key, secret key and Redis prefix of their own run."""
    folder = tmp_path_factory.mktemp("nodes")
    server = urlsplit(os.environ["DATABASE_URL"])
    database_url = urlunsplit(server._replace(path="/" + connection.settings_dict["NAME"]))
    with own_prefix() as (_, prefix):
        (folder / "mail").mkdir()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.deployment.node_settings",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "CACHE_URL": f"{REDIS}?key_prefix={prefix}",
            "LKM_PUBLIC_URL": PUBLIC_URL,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "EMAIL_URL": f"filemail:///{folder / 'mail'}",  # the URL's path less its first slash
            "PYTHONUNBUFFERED": "1",
        }
        with (
            gunicorn_node(env, folder / "a.log") as a_url,
            gunicorn_node(env, folder / "b.log") as b_url,
        ):
            yield Node(a_url, env, folder / "a.log"), Node(b_url, env, folder / "b.log")


@pytest.fixture
def acme(transactional_db) -> Tenant:
    """Committed, so the nodes see it: a tenant with two administrators."""
    tenant = Tenant.objects.create(slug="acme", name="Acme Contact Center")
    make_user("alice", Role.TENANT_ADMIN, tenant)
    make_user("bob", Role.TENANT_ADMIN, tenant)
    return tenant


def test_both_nodes_report_the_shared_parts_healthy(nodes) -> None:
    a, b = nodes
    for node in nodes:
        reply = Browser(node.url).get("/healthz")
        assert reply.status == 200, reply.text
        assert reply.text.replace(" ", "") == (
            '{"status":"ok","database":"postgresql","cache":"redis","master_key":"environment"}'
        )
        assert "portal.W001" not in node.log.read_text()  # two workers each, on a shared cache: no warning


def test_a_session_from_one_node_works_on_the_other_and_sees_its_changes(nodes, acme) -> None:
    a, b = nodes
    on_a = Browser(a.url).sign_in("alice", PASSWORD)
    on_b = Browser(b.url, dict(on_a.cookies))
    listing = "/t/acme/certificates/"
    before = on_b.get(listing)
    assert before.status == 200, before.text[:300]
    assert "two-nodes" not in before.text  # and node B has filed the list's counts under the current version

    cert, key = seed_files("Two Nodes")
    saved = on_a.post(
        reverse("certificate-upload", args=["acme"]),
        {"alias": "two-nodes", "key_password": ""},
        files={"certificate_file": ("two.pem", cert), "key_file": ("two.key", key)},
    )
    assert saved.status == 302, saved.text[:500]

    after = on_b.get(listing)
    assert after.status == 200 and "two-nodes" in after.text
    expiry = on_b.get("/t/acme/expiry/")
    assert expiry.status == 200 and "two-nodes" in expiry.text

    # Signing out on node B ends the session on node A too.
    on_b.post(reverse("logout"), {})
    assert on_a.get(listing).status == 302


def test_sign_in_failures_split_over_both_nodes_lock_out_on_both(nodes, acme) -> None:
    a, b = nodes
    browsers = [Browser(a.url), Browser(b.url)]
    for browser in browsers:
        browser.get("/accounts/login/")  # the CSRF cookie
    limit = settings.AXES_FAILURE_LIMIT
    replies = [
        browsers[attempt % 2].post("/accounts/login/", {"username": "bob", "password": "wrong password"})
        for attempt in range(limit)
    ]
    assert [reply.status for reply in replies] == [200] * (limit - 1) + [429]
    for browser in browsers:  # the right password no longer helps, on either node
        refused = browser.post("/accounts/login/", {"username": "bob", "password": PASSWORD})
        assert refused.status == 429 and "Too many failed sign-in attempts" in refused.text
        assert "sessionid" not in browser.cookies


def test_a_hawk_nonce_or_a_revocation_on_one_node_holds_on_the_other(nodes, acme) -> None:
    a, b = nodes
    issued_credential = issue_credential(acme, by=COMMAND)
    issued = issued_credential.as_json()
    client = HawkClient(issued["id"], issued["authKey"])
    signed_url = f"{PUBLIC_URL}/key-management/v1/keypair"
    authorization = client.sign(signed_url, "GET")

    accepted = send(a.url + "/key-management/v1/keypair", "GET", authorization)
    replayed = send(b.url + "/key-management/v1/keypair", "GET", authorization)
    fresh = send(b.url + "/key-management/v1/keypair", "GET", client.sign(signed_url, "GET"))

    assert accepted.status == 200, accepted.text
    assert replayed.status == 401 and "Replayed" in replayed.json()["message"]
    assert fresh.status == 200, fresh.text

    # Revoked (here, as on either node's page): both nodes refuse it at once, though the workers that served it
    # keep its opened key in memory for a while.
    revoke_credential(issued_credential.credential, by=COMMAND)
    for node in nodes:
        refused = send(node.url + "/key-management/v1/keypair", "GET", client.sign(signed_url, "GET"))
        assert refused.status == 401 and refused.json()["message"] == "Unknown credentials", refused.text


def sent_mails(folder: Path) -> list[str]:
    """The subjects of the mails the file backend wrote, each file holding one connection's mails."""
    return [line for path in folder.iterdir() for line in path.read_text().splitlines() if line.startswith("Subject:")]


def test_notify_expiring_started_on_both_nodes_at_once_sends_each_mail_once(nodes, acme, tmp_path) -> None:
    a, b = nodes
    mail = Path(a.env["EMAIL_URL"].removeprefix("filemail:///"))
    for old in mail.iterdir():
        old.unlink()
    now = timezone.now()
    soon = make_certificate(acme, "expires-soon", not_after=now + timedelta(days=20))
    later = make_certificate(acme, "expires-later", not_after=now + timedelta(days=50))

    runs = run_together([a.env, b.env], "notify_expiring", tmp_path / "go")

    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    counts = sorted(run.stdout.strip().splitlines()[-1] for run in runs)
    subjects = sorted(sent_mails(mail))
    assert len(subjects) == 2, subjects
    assert '"expires-later"' in subjects[0] and '"expires-soon"' in subjects[1], subjects  # each once
    sent = sum(int(count.split()[0]) for count in counts)
    assert sent == 2, counts
    notices = dict(ExpiryNotification.objects.values_list("certificate_id", "status"))
    assert notices == {soon.pk: "sent", later.pk: "sent"}


def test_rotation_started_on_both_nodes_at_once_makes_one_keypair(nodes, acme, tmp_path) -> None:
    a, b = nodes
    set_period(acme, Period.DAILY, by=COMMAND)

    runs = run_together([a.env, b.env], "rotate_lkm_keypairs", tmp_path / "go")

    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    assert sorted(run.stdout.splitlines()[-1] for run in runs) == ["0 keypairs created.", "1 keypair created."]
    assert Keypair.objects.filter(tenant=acme).count() == 1


def test_key_drill_started_on_both_nodes_at_once_proves_each_tenant_once(nodes, acme, tmp_path) -> None:
    a, b = nodes
    globex = Tenant.objects.create(slug="globex", name="Globex")
    make_certificate(acme, "acme-key", key_index=1)
    make_certificate(globex, "globex-key", key_index=2)

    runs = run_together([a.env, b.env], "verify_keys", tmp_path / "go")

    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    proved = sorted(line for run in runs for line in run.stdout.splitlines() if line.endswith(": OK"))
    assert proved == ["acme acme-key: OK", "globex globex-key: OK"], [run.stdout for run in runs]
    skipped = sorted(line.split(":")[0] for run in runs for line in run.stdout.splitlines() if "skipped" in line)
    assert skipped == ["acme", "globex"], [run.stdout for run in runs]
    assert AuditEntry.objects.filter(action="keys-verified").count() == 2
