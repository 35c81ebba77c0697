"""Interoperability with the reference Hawk client, @hapi/hawk, run under Node.js."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lkm.hawk import Credentials, HawkError, Request, verify

NODE_DIR = Path(__file__).parent / "hawk_node"
INSTALL_COMMAND = "npm ci --prefix tests/lkm/hawk_node"
KEY = "node-interop-key-0123456789abcdef"
CREDENTIALS = Credentials(id="node-client", key=KEY.encode(), algorithm="sha256")
CLIENT_CREDENTIALS = {"id": CREDENTIALS.id, "key": KEY, "algorithm": "sha256"}
NOW = 1_700_000_000
HOST = "lkm.example.com"
DECRYPT = "/key-management/v1/decrypt"


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail(f"node is not installed; install Node.js, then run `{INSTALL_COMMAND}`")
    if not (NODE_DIR / "node_modules" / "@hapi" / "hawk").is_dir():
        pytest.fail(f"the reference Hawk client is not installed; run `{INSTALL_COMMAND}`")
    return executable


def run_client(node: str, mode: str, arguments: dict[str, object]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(NODE_DIR / "sign.js"), mode, json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def reference_header(node: str, uri: str, method: str, **options: object) -> str:
    options = {"credentials": CLIENT_CREDENTIALS, "timestamp": NOW, "nonce": "node-nonce", **options}
    result = run_client(node, "header", {"uri": uri, "method": method, "options": options})
    assert result.returncode == 0, result.stderr
    return result.stdout


def check(header: str, request: Request, now: float = NOW) -> str:
    return verify(header, request, lookup={CREDENTIALS.id: CREDENTIALS}.get, now=now).nonce


def test_reference_get_with_ext_verifies(node: str) -> None:
    header = reference_header(node, f"https://{HOST}/key-management/v1/keypair", "GET", ext="audit:1")
    request = Request("GET", ("/key-management/v1/keypair",), HOST, 443, "", b"")
    assert check(header, request) == "node-nonce"
    with pytest.raises(HawkError, match="^Bad MAC$"):
        check(header, Request("POST", ("/key-management/v1/keypair",), HOST, 443, "", b""))


def test_reference_post_with_payload_verifies(node: str) -> None:
    body = '{"keypairId": "5c1e", "body": "QUJD", "note": "d\u00e9chiffrer"}'
    content_type = "Application/JSON; charset=utf-8"
    uri = f"https://{HOST}:8443{DECRYPT}?decryptType=pkcs1"
    header = reference_header(node, uri, "POST", payload=body, contentType=content_type)
    assert "hash=" in header
    request = Request("POST", (f"{DECRYPT}?decryptType=pkcs1",), HOST, 8443, content_type, body.encode())
    assert check(header, request) == "node-nonce"
    altered = Request("POST", request.resources, HOST, 8443, content_type, body.replace("QUJD", "QUJE").encode())
    with pytest.raises(HawkError, match="^Bad payload hash$"):
        check(header, altered)


def test_reference_app_and_dlg_verify(node: str) -> None:
    header = reference_header(node, f"http://{HOST}{DECRYPT}", "OPTIONS", app="app-1", dlg="dlg-2")
    assert 'app="app-1", dlg="dlg-2"' in header
    assert check(header, Request("OPTIONS", (DECRYPT,), HOST, 80, "", b"")) == "node-nonce"


def test_reference_mac_without_query_matches_path_candidate(node: str) -> None:
    header = reference_header(node, f"https://{HOST}{DECRYPT}", "POST")
    request = Request("POST", (f"{DECRYPT}?decryptType=pkcs1", DECRYPT), HOST, 443, "", b"")
    assert check(header, request) == "node-nonce"


def test_reference_client_accepts_stale_timestamp_answer(node: str) -> None:
    header = reference_header(node, f"https://{HOST}{DECRYPT}", "POST")
    server_now = NOW + 3600.9
    with pytest.raises(HawkError, match="^Stale timestamp$") as caught:
        check(header, Request("POST", (DECRYPT,), HOST, 443, "", b""), now=server_now)
    www_authenticate = caught.value.www_authenticate
    accepted = run_client(node, "www-authenticate", {"credentials": CLIENT_CREDENTIALS, "header": www_authenticate})
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout == str(NOW + 3600)

    other_key = {**CLIENT_CREDENTIALS, "key": "some other key"}
    refused = run_client(node, "www-authenticate", {"credentials": other_key, "header": www_authenticate})
    assert refused.returncode != 0
    assert "Invalid server timestamp hash" in refused.stderr
