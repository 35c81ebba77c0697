import base64
import hashlib
import hmac
import re
import time
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mohawk import Sender  # type: ignore[import-untyped]  # no stubs published

from lkm.hawk import (
    MAX_HEADER_LENGTH,
    MAX_NONCE_LENGTH,
    Credentials,
    HawkError,
    Request,
    Verified,
    normalized_string,
    payload_hash,
    verify,
)

# The Hawk protocol documentation's example credentials and request.
README_ID = "dh37fgj492je"
README_KEY = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn"
README_TS = 1353832234
README_CREDENTIALS = Credentials(id=README_ID, key=README_KEY.encode(), algorithm="sha256")

LKM_URL = "https://lkm.example.com/key-management/v1/decrypt?decryptType=pkcs1"
LKM_KEY = "k3y-for-tests-only-0123456789abcdef"
LKM_CREDENTIALS = Credentials(id="lkm-client", key=LKM_KEY.encode(), algorithm="sha256")
NOW = 1_700_000_000.25


def lookup(credential_id: str) -> Credentials | None:
    return {c.id: c for c in (README_CREDENTIALS, LKM_CREDENTIALS)}.get(credential_id)


def request_for(url: str, method: str = "POST", content_type: str = "", body: bytes = b"") -> Request:
    parts = urlsplit(url)
    resource = parts.path + (f"?{parts.query}" if parts.query else "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Request(method, (resource,), parts.hostname or "", port, content_type, body)


def mohawk_header(url: str = LKM_URL, method: str = "POST", *, ts: int = int(NOW), **options: object) -> str:
    credentials = {"id": LKM_CREDENTIALS.id, "key": LKM_KEY, "algorithm": "sha256"}
    options.setdefault("always_hash_content", "content" in options)
    sender = Sender(credentials, url, method, _timestamp=ts, nonce="n0nce-1", **options)
    return str(sender.request_header)


def rejection(authorization: str | None, request: Request, now: float = NOW) -> HawkError:
    with pytest.raises(HawkError) as caught:
        verify(authorization, request, lookup=lookup, now=now)
    return caught.value


def attributes_of(www_authenticate: str) -> dict[str, str]:
    assert www_authenticate.startswith("Hawk ")
    return dict(re.findall(r'(\w+)="([^"]*)"', www_authenticate))


# --- the protocol documentation's vectors ---


def test_documented_get_example_verifies() -> None:
    header = (
        f'Hawk id="{README_ID}", ts="{README_TS}", nonce="j4h3g2", ext="some-app-ext-data", '
        'mac="6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE="'
    )
    request = request_for("http://example.com:8000/resource/1?b=1&a=2", "GET")
    verified = verify(header, request, lookup=lookup, now=README_TS)
    assert verified == Verified(credentials=README_CREDENTIALS, nonce="j4h3g2", ts=README_TS)


def test_documented_normalized_string() -> None:
    attributes = {"ts": str(README_TS), "nonce": "j4h3g2", "ext": "some-app-ext-data"}
    normalized = normalized_string(attributes, "GET", "/resource/1?b=1&a=2", "example.com", 8000)
    assert (
        normalized
        == "hawk.1.header\n1353832234\nj4h3g2\nGET\n/resource/1?b=1&a=2\nexample.com\n8000\n\nsome-app-ext-data\n"
    )


def test_documented_post_example_verifies_with_payload() -> None:
    body_hash = "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY="
    assert payload_hash("text/plain", b"Thank you for flying Hawk") == body_hash
    header = (
        f'Hawk id="{README_ID}", ts="{README_TS}", nonce="j4h3g2", hash="{body_hash}", '
        'ext="some-app-ext-data", mac="aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw="'
    )
    request = request_for(
        "http://example.com:8000/resource/1?b=1&a=2", "POST", "text/plain", b"Thank you for flying Hawk"
    )
    assert verify(header, request, lookup=lookup, now=README_TS).nonce == "j4h3g2"


def test_payload_hash_uses_bare_lower_case_media_type() -> None:
    plain = payload_hash("text/plain", b"x")
    assert payload_hash(" Text/Plain ; charset=UTF-8", b"x") == plain
    assert payload_hash("application/json", b"x") != plain


# --- requests signed by mohawk ---


def test_signed_request_without_payload_hash_verifies() -> None:
    header = mohawk_header(method="GET")
    assert "hash=" not in header
    verified = verify(header, request_for(LKM_URL, "GET"), lookup=lookup, now=NOW)
    assert (verified.credentials, verified.nonce, verified.ts) == (LKM_CREDENTIALS, "n0nce-1", int(NOW))


def test_payload_is_not_checked_when_header_has_no_hash() -> None:
    header = mohawk_header(always_hash_content=False)
    assert "hash=" not in header
    request = request_for(LKM_URL, "POST", "application/json", b"anything else")
    assert verify(header, request, lookup=lookup, now=NOW).nonce == "n0nce-1"


def test_signed_request_with_payload_hash_verifies() -> None:
    body = b'{"keypairId": "k", "body": "AAAA"}'
    header = mohawk_header(content=body, content_type="application/json; charset=utf-8")
    assert "hash=" in header
    request = request_for(LKM_URL, "POST", "application/json; charset=utf-8", body)
    assert verify(header, request, lookup=lookup, now=NOW).ts == int(NOW)


def test_signed_request_with_app_and_dlg_verifies() -> None:
    header = mohawk_header(method="GET", app="app-1", dlg="delegate-2", ext="a b:c")
    request = request_for(LKM_URL, "GET")
    assert verify(header, request, lookup=lookup, now=NOW).nonce == "n0nce-1"
    tampered = header.replace('dlg="delegate-2"', 'dlg="delegate-3"')
    assert str(rejection(tampered, request)) == "Bad MAC"


def test_host_is_compared_lower_case() -> None:
    header = mohawk_header(method="GET")
    signed = request_for(LKM_URL, "GET")
    request = Request("GET", signed.resources, "LKM.Example.COM", signed.port, "", b"")
    assert verify(header, request, lookup=lookup, now=NOW).nonce == "n0nce-1"


BODY = b'{"keypairId": "k"}'
SIGNED = request_for(LKM_URL, "POST", "application/json", BODY)


@pytest.mark.parametrize(
    ("altered", "message"),
    [
        (Request("PUT", SIGNED.resources, SIGNED.host, SIGNED.port, SIGNED.content_type, SIGNED.body), "Bad MAC"),
        (Request("POST", ("/key-management/v1/decrypt",), SIGNED.host, 443, "application/json", BODY), "Bad MAC"),
        (Request("POST", SIGNED.resources, "other.example.com", 443, "application/json", BODY), "Bad MAC"),
        (Request("POST", SIGNED.resources, SIGNED.host, 8443, "application/json", BODY), "Bad MAC"),
        (Request("POST", SIGNED.resources, SIGNED.host, 443, "application/json", BODY + b" "), "Bad payload hash"),
        (Request("POST", SIGNED.resources, SIGNED.host, 443, "text/plain", BODY), "Bad payload hash"),
        (Request("POST", (), SIGNED.host, 443, "application/json", BODY), "Bad MAC"),
    ],
    ids=["method", "resource", "host", "port", "body", "content-type", "no-resource"],
)
def test_altered_request_is_refused(altered: Request, message: str) -> None:
    header = mohawk_header(content=BODY, content_type="application/json")
    assert verify(header, SIGNED, lookup=lookup, now=NOW).nonce == "n0nce-1"
    error = rejection(header, altered)
    assert str(error) == message
    assert error.www_authenticate == f'Hawk error="{message}"'


def test_wrong_key_is_refused() -> None:
    header = mohawk_header(method="GET")
    other = Credentials(id=LKM_CREDENTIALS.id, key=b"another key")
    with pytest.raises(HawkError, match="^Bad MAC$"):
        verify(header, request_for(LKM_URL, "GET"), lookup=lambda _id: other, now=NOW)


def test_path_only_candidate_accepts_mac_without_query() -> None:
    path = "/key-management/v1/decrypt"
    header = mohawk_header("https://lkm.example.com" + path, method="GET")
    with_query = request_for(LKM_URL, "GET")
    assert str(rejection(header, with_query)) == "Bad MAC"
    candidates = Request("GET", (with_query.resources[0], path), with_query.host, 443, "", b"")
    assert verify(header, candidates, lookup=lookup, now=NOW).nonce == "n0nce-1"


# --- timestamps ---


@pytest.mark.parametrize("offset", [-61, 61, -(10**9)])
def test_stale_timestamp_carries_server_time_client_can_check(offset: int) -> None:
    header = mohawk_header(method="GET", ts=int(NOW) + offset)
    error = rejection(header, request_for(LKM_URL, "GET"))
    assert str(error) == "Stale timestamp"
    attributes = attributes_of(error.www_authenticate)
    assert attributes["ts"] == str(int(NOW))
    assert attributes["error"] == "Stale timestamp"
    expected = hmac.new(LKM_KEY.encode(), f"hawk.1.ts\n{int(NOW)}\n".encode(), hashlib.sha256).digest()
    assert attributes["tsm"] == base64.b64encode(expected).decode()
    assert LKM_KEY not in error.www_authenticate and LKM_KEY not in str(error)


@pytest.mark.parametrize("offset", [-60, 60])
def test_timestamp_within_skew_is_accepted(offset: int) -> None:
    header = mohawk_header(method="GET", ts=int(NOW) + offset)
    now = int(NOW)
    assert verify(header, request_for(LKM_URL, "GET"), lookup=lookup, now=now).ts == now + offset


def test_stale_timestamp_with_bad_mac_reports_bad_mac() -> None:
    header = mohawk_header(method="GET", ts=int(NOW) - 3600)
    error = rejection(header, request_for(LKM_URL, "PUT"))
    assert str(error) == "Bad MAC"
    assert "tsm=" not in error.www_authenticate


# --- credentials and header syntax ---


@pytest.mark.parametrize("authorization", [None, "", "Basic dXNlcjpwYXNz", "Bearer abc", 'Hawkish id="x"'])
def test_missing_hawk_authorization(authorization: str | None) -> None:
    error = rejection(authorization, request_for(LKM_URL))
    assert str(error) == "Missing Hawk authorization"
    assert error.www_authenticate == "Hawk"


def test_unknown_credentials() -> None:
    header = mohawk_header(method="GET").replace('id="lkm-client"', 'id="nobody"')
    assert str(rejection(header, request_for(LKM_URL, "GET"))) == "Unknown credentials"


def test_algorithm_other_than_sha256_is_refused() -> None:
    header = mohawk_header(method="GET")
    sha1 = Credentials(id=LKM_CREDENTIALS.id, key=LKM_CREDENTIALS.key, algorithm="sha1")
    with pytest.raises(HawkError, match="^Unknown algorithm$"):
        verify(header, request_for(LKM_URL, "GET"), lookup=lambda _id: sha1, now=NOW)


VALID = 'id="lkm-client", ts="1700000000", nonce="abc", mac="AAAA"'


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("Hawk " + VALID + ", ext=" + '"' + "x" * MAX_HEADER_LENGTH + '"', "Bad Hawk header: too long"),
        ("Hawk", "Bad Hawk header: invalid syntax"),
        ("Hawk   ", "Bad Hawk header: invalid syntax"),
        ("Hawk " + VALID + "\n", "Bad Hawk header: invalid syntax"),
        ("Hawk id=lkm-client", "Bad Hawk header: bad format"),
        ('Hawk id="a" ts="1"', "Bad Hawk header: bad format"),
        ("Hawk " + VALID + ", junk", "Bad Hawk header: bad format"),
        ('Hawk id="a\\"b", ts="1", nonce="n", mac="m"', "Bad Hawk header: bad format"),
        ("Hawk " + VALID + ', user="x"', "Bad Hawk header: unknown attribute user"),
        ("Hawk " + VALID.replace("id=", "ID="), "Bad Hawk header: unknown attribute ID"),
        ("Hawk " + VALID + ', ts="1700000001"', "Bad Hawk header: duplicate attribute ts"),
        ("Hawk " + VALID + ', ext=""', "Bad Hawk header: bad value for ext"),
        ("Hawk " + VALID + ', ext="caf\u00e9"', "Bad Hawk header: bad value for ext"),
        ('Hawk id="lkm-client", ts="1700000000", nonce="abc"', "Bad Hawk header: missing mac"),
        ('Hawk nonce="abc"', "Bad Hawk header: missing id, ts, mac"),
        ("Hawk " + VALID.replace('"1700000000"', '"17e8"'), "Bad Hawk header: ts must be whole seconds"),
        ("Hawk " + VALID.replace('"1700000000"', '"1700000000.5"'), "Bad Hawk header: ts must be whole seconds"),
        ("Hawk " + VALID.replace('"1700000000"', '" 1700000000"'), "Bad Hawk header: ts must be whole seconds"),
        ("Hawk " + VALID.replace('"1700000000"', '"' + "9" * 21 + '"'), "Bad Hawk header: ts must be whole seconds"),
        (
            "Hawk " + VALID.replace('"abc"', '"' + "n" * (MAX_NONCE_LENGTH + 1) + '"'),
            f"Bad Hawk header: nonce longer than {MAX_NONCE_LENGTH} characters",
        ),
    ],
)
def test_bad_header_is_refused_before_lookup(authorization: str, message: str) -> None:
    def no_lookup(credential_id: str) -> Credentials | None:
        raise AssertionError("credentials looked up for a malformed header")

    with pytest.raises(HawkError) as caught:
        verify(authorization, request_for(LKM_URL), lookup=no_lookup, now=NOW)
    assert str(caught.value) == message
    assert caught.value.www_authenticate == f'Hawk error="{message}"'


def test_header_syntax_follows_reference_spacing() -> None:
    header = mohawk_header(method="GET")
    attributes = re.findall(r'\w+="[^"]*"', header)
    squeezed = "hawk " + ",".join(attributes) + " ,\t"
    assert verify(squeezed, request_for(LKM_URL, "GET"), lookup=lookup, now=NOW).nonce == "n0nce-1"


def test_nonce_of_maximum_length_is_accepted() -> None:
    nonce = "n" * MAX_NONCE_LENGTH
    credentials = {"id": LKM_CREDENTIALS.id, "key": LKM_KEY, "algorithm": "sha256"}
    header = Sender(credentials, LKM_URL, "GET", always_hash_content=False, _timestamp=int(NOW), nonce=nonce)
    assert verify(header.request_header, request_for(LKM_URL, "GET"), lookup=lookup, now=NOW).nonce == nonce


@pytest.mark.parametrize(
    "authorization",
    [
        "Hawk " + "a" * (MAX_HEADER_LENGTH - 5),
        "Hawk " + 'a="' * ((MAX_HEADER_LENGTH - 5) // 3),
        "Hawk " + 'id="x" ' * ((MAX_HEADER_LENGTH - 5) // 7),
        "Hawk " + "\u2000" * (MAX_HEADER_LENGTH - 5),
    ],
    ids=["word", "open-quotes", "no-commas", "spaces"],
)
def test_hostile_header_is_refused_quickly(authorization: str) -> None:
    started = time.perf_counter()
    for _ in range(20):
        rejection(authorization, request_for(LKM_URL))
    assert time.perf_counter() - started < 1.0


# --- any input raises only HawkError ---

HEADER_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
ATTRIBUTE_NAMES = st.sampled_from(["id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg", "x", "ID", ""])


def only_hawk_errors(authorization: str, request: Request) -> None:
    try:
        verify(authorization, request, lookup=lambda _id: LKM_CREDENTIALS, now=NOW)
    except HawkError as error:
        assert str(error)
        assert error.www_authenticate.startswith("Hawk")
        assert LKM_KEY not in str(error) and LKM_KEY not in error.www_authenticate


@settings(max_examples=300, deadline=None)
@given(authorization=HEADER_TEXT)
def test_any_text_raises_only_hawk_error(authorization: str) -> None:
    only_hawk_errors(authorization, SIGNED)
    only_hawk_errors("Hawk " + authorization, SIGNED)


@settings(max_examples=300, deadline=None)
@given(
    attributes=st.lists(st.tuples(ATTRIBUTE_NAMES, HEADER_TEXT), max_size=10),
    separator=st.sampled_from([", ", ",", " ", ",\n", ", \u00a0"]),
    method=HEADER_TEXT,
    resource=HEADER_TEXT,
    host=HEADER_TEXT,
    port=st.integers(min_value=-(2**70), max_value=2**70),
    content_type=HEADER_TEXT,
    body=st.binary(max_size=100),
)
def test_any_attributes_and_request_raise_only_hawk_error(
    attributes: list[tuple[str, str]],
    separator: str,
    method: str,
    resource: str,
    host: str,
    port: int,
    content_type: str,
    body: bytes,
) -> None:
    authorization = "Hawk " + separator.join(f'{name}="{value}"' for name, value in attributes)
    only_hawk_errors(authorization, Request(method, (resource, ""), host, port, content_type, body))


@settings(max_examples=200, deadline=None)
@given(ts=st.text(alphabet="0123456789", min_size=1, max_size=40), nonce=st.text(max_size=200))
def test_any_timestamp_and_nonce_raise_only_hawk_error(ts: str, nonce: str) -> None:
    only_hawk_errors(f'Hawk id="i", ts="{ts}", nonce="{nonce}", mac="m"', SIGNED)
