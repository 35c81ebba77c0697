"""The credential commands an operator runs: the auth key is shown once and stored only sealed; listing never shows
it; a revoked credential authenticates nobody; every refusal is one line and exit status 1."""

import json
import subprocess
import uuid
from pathlib import Path

from .live_lkm import HawkClient, issue, lkm_portal, manage, signed


def refused(done: subprocess.CompletedProcess[str]) -> str:
    """The one line a refused command printed."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def database_bytes(directory: Path) -> bytes:
    """The SQLite database as stored, write-ahead log included."""
    return b"".join(path.read_bytes() for path in sorted(directory.glob("portal.sqlite3*")))


def test_credentials_from_issue_to_revocation(tmp_path: Path) -> None:
    with lkm_portal(tmp_path, "acme", sqlite=True) as portal:  # its database file is read below
        assert manage(portal.env, "create_tenant", "globex", "--name", "Globex").returncode == 0
        created = manage(portal.env, "create_lkm_credential", "--tenant", "acme", "--label", "Genesys Cloud prod")
        second = issue(portal.env, "acme")
        other_tenants = issue(portal.env, "globex")
        printed = json.loads(created.stdout)
        client = HawkClient(printed["id"], printed["authKey"])
        stored = database_bytes(tmp_path)
        accepted = signed(client, portal.url, "GET", "/keypair")
        listed = manage(portal.env, "list_lkm_credentials", "--tenant", "acme")

        revoked = manage(portal.env, "revoke_lkm_credential", "--tenant", "acme", printed["id"])
        after_revocation = signed(client, portal.url, "GET", "/keypair")
        still_active = signed(second, portal.url, "GET", "/keypair")
        listed_after = manage(portal.env, "list_lkm_credentials", "--tenant", "acme")
        revoked_again = manage(portal.env, "revoke_lkm_credential", "--tenant", "acme", printed["id"])
        unknown = str(uuid.uuid4())
        unknown_id = manage(portal.env, "revoke_lkm_credential", "--tenant", "acme", unknown)
        of_globex = manage(portal.env, "revoke_lkm_credential", "--tenant", "acme", other_tenants.id)
        not_an_id = manage(portal.env, "revoke_lkm_credential", "--tenant", "acme", "not-an-id")
        globex_still = signed(other_tenants, portal.url, "GET", "/keypair")
        no_tenant = [
            manage(portal.env, "create_lkm_credential", "--tenant", "initech"),
            manage(portal.env, "list_lkm_credentials", "--tenant", "initech"),
            manage(portal.env, "revoke_lkm_credential", "--tenant", "initech", second.id),
        ]
        stored_at_end = database_bytes(tmp_path)
        server_log = portal.log()

    # Issued: one JSON line, exactly the three fields Genesys Cloud takes.
    assert created.returncode == 0, created.stderr
    assert len(created.stdout.splitlines()) == 1
    assert printed.keys() == {"id", "authKey", "algorithm"} and printed["algorithm"] == "sha256"
    assert uuid.UUID(printed["id"]) and len(printed["authKey"]) >= 43  # 32 random bytes, base64url
    # Kept only sealed: the key is nowhere in the database file, before or after it was used.
    assert printed["id"].encode() in stored or uuid.UUID(printed["id"]).hex.encode() in stored
    for key in (printed["authKey"], second.auth_key, other_tenants.auth_key):
        assert key.encode() not in stored and key.encode() not in stored_at_end
        assert key not in server_log
    assert accepted.status == 200, accepted.text

    # Listed: id and status, never the key.
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    line_of = {line.split("\t")[0]: line for line in lines}
    assert line_of.keys() == {printed["id"], second.id}
    assert line_of[printed["id"]].split("\t")[1] == "active" and line_of[printed["id"]].endswith("Genesys Cloud prod")
    assert printed["authKey"] not in listed.stdout and second.auth_key not in listed.stdout
    assert other_tenants.id not in listed.stdout

    # Revoked: refused from then on, the others unaffected, listed as revoked.
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"Revoked credential {printed['id']}: requests signed with it are refused."
    assert after_revocation.status == 401, after_revocation.text
    assert after_revocation.json()["status"] == 401
    assert still_active.status == 200 and globex_still.status == 200
    revoked_line = next(line for line in listed_after.stdout.splitlines() if line.startswith(printed["id"]))
    assert revoked_line.split("\t")[1].startswith("revoked ")
    assert printed["authKey"] not in listed_after.stdout

    # Refusals: one line each, exit status 1.
    assert "revoked already" in refused(revoked_again)
    assert unknown in refused(unknown_id)
    assert other_tenants.id in refused(of_globex)
    assert "not-an-id" in refused(not_an_id)
    for done in no_tenant:
        assert "initech" in refused(done)
