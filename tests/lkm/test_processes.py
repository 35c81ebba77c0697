"""The Local Key Manager across processes that share nothing but the database: a nonce accepted by one server
process is refused by another, and rotation started on two nodes at the same moment makes one keypair."""

import json
from pathlib import Path

from tests.deployment.nodes import run_together

from .live_lkm import issue, lkm_portal, send, server, signed

PUBLIC_URL = "https://lkm.example.com"  # both processes behind one TLS proxy: the MAC covers this, not their ports


def test_a_nonce_accepted_by_one_server_process_is_refused_by_another(tmp_path: Path) -> None:
    with lkm_portal(tmp_path, "acme") as first:
        client = issue(first.env, "acme")
        env = {**first.env, "LKM_PUBLIC_URL": PUBLIC_URL}
        # The first portal process does not know LKM_PUBLIC_URL: two more that do, on the same database file.
        with server(env, tmp_path / "one.log") as one, server(env, tmp_path / "two.log") as two:
            signed_url = f"{PUBLIC_URL}/key-management/v1/keypair"
            authorization = client.sign(signed_url, "GET")

            accepted = send(one + "/key-management/v1/keypair", "GET", authorization)
            replayed = send(two + "/key-management/v1/keypair", "GET", authorization)
            fresh = send(two + "/key-management/v1/keypair", "GET", client.sign(signed_url, "GET"))

    assert accepted.status == 200, accepted.text
    assert accepted.json() == []
    assert replayed.status == 401, replayed.text
    assert "Replayed" in replayed.json()["message"]
    assert replayed.json()["status"] == 401
    assert replayed.headers["WWW-Authenticate"].startswith("Hawk")
    # The second process itself accepts the credential: only the nonce was refused.
    assert fresh.status == 200, fresh.text


SCHEDULE_DAILY = """
import json
from portal.accounts.models import Tenant
from portal.audit.log import COMMAND
from lkm.models import Period
from lkm.rotation import set_period
schedule = set_period(Tenant.objects.get(slug="acme"), Period.DAILY, by=COMMAND)
print(json.dumps(schedule.next_due.timestamp()))
"""

KEYPAIRS_AND_SCHEDULE = """
import json
from lkm.models import Keypair, RotationSchedule
keypairs = [[str(k.id), k.origin, k.date_created.timestamp()] for k in Keypair.objects.filter(tenant__slug="acme")]
due = RotationSchedule.objects.get(tenant__slug="acme").next_due
print(json.dumps({"keypairs": keypairs, "next_due": due.timestamp()}))
"""


def test_rotation_started_on_two_nodes_at_once_makes_one_keypair(tmp_path: Path) -> None:
    with lkm_portal(tmp_path, "acme") as portal:
        portal.run_python(SCHEDULE_DAILY)
        runs = run_together([portal.env, portal.env], "rotate_lkm_keypairs", tmp_path / "go")
        after_both = portal.run_python(KEYPAIRS_AND_SCHEDULE)
        later = portal.manage("rotate_lkm_keypairs")
        after_later = portal.run_python(KEYPAIRS_AND_SCHEDULE)

    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    assert [run.stderr for run in runs] == ["", ""]
    assert len(after_both["keypairs"]) == 1
    keypair_id, origin, created = after_both["keypairs"][0]
    assert origin == "schedule"
    printed = sorted(run.stdout.splitlines() for run in runs)
    assert printed == [["0 keypairs created."], [f"acme: created keypair {keypair_id}", "1 keypair created."]]
    # The next keypair is due a day after the one just made.
    assert abs(after_both["next_due"] - (created + 86400)) < 2

    assert later.returncode == 0, later.stderr
    assert later.stdout.splitlines() == ["0 keypairs created."]
    assert after_later == after_both


def test_the_two_processes_answer_with_json_on_one_database(tmp_path: Path) -> None:
    """A keypair made through one process is listed and decrypts through another."""
    import base64
    import os

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    with lkm_portal(tmp_path, "acme") as first:
        client = issue(first.env, "acme")
        with server(first.env, tmp_path / "second.log") as second:
            created = signed(client, first.url, "POST", "/keypair", {})
            assert created.status == 200, created.text
            keypair = created.json()
            listed = signed(client, second, "GET", "/keypair")
            public_key = serialization.load_der_public_key(base64.b64decode(keypair["publicKey"]))
            data_key = os.urandom(32)
            oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303
            wrapped = public_key.encrypt(data_key, oaep)  # type: ignore[union-attr]
            body = {"keypairId": keypair["id"], "body": base64.b64encode(wrapped).decode()}
            decrypted = signed(client, second, "POST", "/decrypt", body)

    assert listed.status == 200
    assert [item["id"] for item in listed.json()] == [keypair["id"]]
    assert decrypted.status == 200, decrypted.text
    assert base64.b64decode(decrypted.json()["body"]) == data_key
    assert json.loads(created.text).keys() == {"id", "publicKey", "dateCreated"}
