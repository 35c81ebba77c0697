"""Many requests of one session at the same moment, over real HTTP: on SQLite, a database file served as ``make
run`` serves it; on PostgreSQL, Django's live server (a connection per request thread)."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from keystore.reauth import REAUTH_LIMIT
from tests.conftest import PASSWORD
from tests.factories import seed_files
from tests.live import Browser, Reply, Served, all_at_once, sqlite_portal

WRONG_PASSWORD_LOGGED = "wrong password re-entered by alice"


def populate() -> dict[str, str]:
    """A tenant, its administrator and one stored key, in the database the portal serves."""
    from portal.accounts.models import Role, Tenant
    from portal.audit.models import AuditHead
    from tests.conftest import make_user
    from tests.factories import make_certificate

    AuditHead.objects.get_or_create(pk=1)  # made by a migration; the live server's database was emptied between tests
    acme = Tenant.objects.create(slug="acme", name="Acme Contact Center")
    make_user("alice", Role.TENANT_ADMIN, acme)
    return {"entry": str(make_certificate(acme, "live-key").entry_id)}


def facts() -> dict[str, Any]:
    """What the database holds afterwards, and what alice's requests recorded."""
    from certificates.models import Certificate
    from portal.audit.models import AuditEntry
    from portal.audit.verify import verify_chain

    actions = list(AuditEntry.objects.filter(actor_username="alice").values_list("action", flat=True))
    return {
        "aliases": sorted(Certificate.objects.values_list("entry__alias", flat=True)),
        "uploads_recorded": actions.count("certificate-uploaded"),
        "reauth_limits_recorded": actions.count("keystore-reauth-limit"),
        "keys_downloaded": actions.count("private-key-downloaded"),
        "chain_intact": verify_chain().ok,
    }


class Portal:
    def __init__(self, served: Served, made: dict[str, str], log: Any) -> None:
        self.served, self.made, self._log = served, made, log

    def browser(self) -> Browser:
        return Browser(self.served.url)

    def log(self) -> str:
        return str(self._log())

    def facts(self) -> dict[str, Any]:
        if self.served.env:  # its own process and database
            return dict(
                self.served.run_python(
                    "import json; from tests.test_parallel_requests import facts\nprint(json.dumps(facts()))"
                )
            )
        return facts()


@pytest.fixture
def portal(request: pytest.FixtureRequest, tmp_path, live_server) -> Iterator[Portal]:
    """On SQLite, the live server (which shares the in-memory test database's one connection) is left unused."""
    if connection.vendor == "sqlite":
        with sqlite_portal(tmp_path) as served:
            made = served.run_python(
                "import json; from tests.test_parallel_requests import populate\nprint(json.dumps(populate()))"
            )
            yield Portal(served, made, served.log)
    else:
        caplog = request.getfixturevalue("caplog")  # the live server's threads log in this process
        yield Portal(Served(live_server.url, {}), populate(), lambda: caplog.text)


def test_parallel_wrong_passwords_are_checked_only_up_to_the_limit(portal: Portal) -> None:
    alice = portal.browser().sign_in("alice", PASSWORD)
    download = f"/t/acme/keystore/entries/{portal.made['entry']}/download/"
    assert alice.get(download).status == 200

    def guess(index: int) -> Reply:
        return alice.copy().post(download, {"your_password": f"guess {index}", "key_format": "pkcs8"})

    replies = all_at_once(30, guess)
    assert all(isinstance(reply, Reply) for reply in replies), (replies, portal.log()[-4000:])
    statuses = sorted({reply.status for reply in replies})
    assert set(statuses) <= {400, 302}, statuses  # told the password is wrong, or sent to sign in
    assert all("PRIVATE KEY" not in reply.text for reply in replies)
    # Exactly as many passwords checked as the limit allows, however many arrived at once.
    assert portal.log().count(WRONG_PASSWORD_LOGGED) == REAUTH_LIMIT

    # The session has ended: the right password no longer downloads the key.
    final = alice.post(download, {"your_password": PASSWORD, "key_format": "pkcs8"})
    assert final.status == 302 and final.headers["Location"].startswith("/accounts/login/")
    assert "PRIVATE KEY" not in final.text
    assert alice.get("/t/acme/keystore/").status == 302
    after = portal.facts()
    assert after["keys_downloaded"] == 0 and after["reauth_limits_recorded"] == 1


def test_parallel_uploads_are_saved_or_told_to_wait_never_a_server_error(portal: Portal) -> None:
    files = [seed_files(f"Parallel Recording {index}", key_index=200 + index) for index in range(20)]
    alice = portal.browser().sign_in("alice", PASSWORD)
    upload = "/t/acme/certificates/upload/"
    assert alice.get(upload).status == 200

    def post(index: int) -> Reply:
        cert, key = files[index]
        return alice.copy().post(
            upload,
            {"alias": f"parallel-{index}", "key_password": ""},
            {"certificate_file": ("tenant.pem", cert), "key_file": ("tenant.key", key)},
        )

    replies = all_at_once(len(files), post)
    assert all(isinstance(reply, Reply) for reply in replies), (replies, portal.log()[-4000:])
    statuses = [reply.status for reply in replies]
    assert set(statuses) <= {302, 503}, statuses
    assert all("The portal is busy" in reply.text for reply in replies if reply.status == 503)
    saved = sorted(f"parallel-{index}" for index, status in enumerate(statuses) if status == 302)
    assert saved, "no upload was saved"
    after = portal.facts()
    # Each upload saved whole (certificate, key and audit entry) or not at all, and the audit chain is one line.
    assert after["aliases"] == sorted(saved + ["live-key"])
    assert after["uploads_recorded"] == len(saved)
    assert after["chain_intact"]
