"""Hawk (protocol version 1) request verification, as the reference server (hapijs/hawk) does it.

Pure standard library: the caller supplies the request parts, a credentials lookup and the current time,
and stores the returned nonce itself.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

SKEW_SECONDS = 60
MAX_HEADER_LENGTH = 4096
MAX_NONCE_LENGTH = 128
# Longer timestamps are still digits but no clock reaches them; bounding them keeps int() cheap.
MAX_TS_DIGITS = 20

_ATTRIBUTE_NAMES = frozenset({"id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg"})
_REQUIRED_ATTRIBUTES = ("id", "ts", "nonce", "mac")

# The reference parses with JavaScript regular expressions: \w is ASCII only, \s includes these code points,
# and "." excludes the line terminators below. Spelling the classes out keeps Python's Unicode rules out of it.
_WORD = "A-Za-z0-9_"
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_JS_SPACE += "\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_LINE_TERMINATORS = "\n\r\u2028\u2029"

_SCHEME = re.compile(f"[{_WORD}]+")
_AUTH_HEADER = re.compile(f"([{_WORD}]+)(?:[{_JS_SPACE}]+([^{_JS_LINE_TERMINATORS}]*))?\\Z")
_ATTRIBUTE = re.compile(f'([{_WORD}]+)="([^"\\\\]*)"[{_JS_SPACE}]*(?:,[{_JS_SPACE}]*|\\Z)')
_ATTRIBUTE_VALUE = re.compile(f"[ {_WORD}!#$%&'()*+,\\-./:;<=>?@\\[\\]^`{{|}}~]+")
_DIGITS = re.compile("[0-9]+")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Credentials:
    id: str
    key: bytes  # the authKey's UTF-8 bytes, as Hawk clients use it
    algorithm: str = "sha256"  # only sha256 is accepted


@dataclass(frozen=True)
class Request:
    method: str
    # Candidate resources the MAC may cover; the first is path+query as sent.
    resources: tuple[str, ...]
    host: str
    port: int
    content_type: str  # "" when absent
    body: bytes


@dataclass(frozen=True)
class Verified:
    credentials: Credentials
    nonce: str
    ts: int


class HawkError(Exception):
    """Authentication failed (HTTP 401).

    str(error) is a short reason safe to show the client; .www_authenticate is the WWW-Authenticate value.
    """

    def __init__(self, message: str, www_authenticate: str | None = None) -> None:
        super().__init__(message)
        self.www_authenticate = www_authenticate if www_authenticate is not None else f'Hawk error="{message}"'


def _utf8(text: str) -> bytes:
    # Node encodes lone surrogates as U+FFFD; doing the same keeps MACs comparable and never raises.
    return _LONE_SURROGATE.sub("\ufffd", text).encode("utf-8")


def _b64_hmac(key: bytes, message: str) -> str:
    return base64.b64encode(hmac.new(key, _utf8(message), hashlib.sha256).digest()).decode("ascii")


def parse_authorization(authorization: str | None) -> dict[str, str]:
    """The Hawk header's attributes, validated like the reference server's parseAuthorizationHeader."""
    if not isinstance(authorization, str) or not authorization:
        raise HawkError("Missing Hawk authorization", "Hawk")
    scheme = _SCHEME.match(authorization)
    if scheme is None or scheme.group().lower() != "hawk":
        raise HawkError("Missing Hawk authorization", "Hawk")
    if len(authorization) > MAX_HEADER_LENGTH:
        raise HawkError("Bad Hawk header: too long")
    header = _AUTH_HEADER.match(authorization)
    if header is None or not header.group(2):
        raise HawkError("Bad Hawk header: invalid syntax")
    text = header.group(2)
    attributes: dict[str, str] = {}
    position = 0
    while position < len(text):
        # The reference requires the attributes to cover the whole string; a gap anywhere is a format error,
        # so matching only at the current position gives the same decisions in linear time.
        attribute = _ATTRIBUTE.match(text, position)
        if attribute is None:
            raise HawkError("Bad Hawk header: bad format")
        name, value = attribute.group(1), attribute.group(2)
        shown = name[:16]
        if name not in _ATTRIBUTE_NAMES:
            raise HawkError(f"Bad Hawk header: unknown attribute {shown}")
        if _ATTRIBUTE_VALUE.fullmatch(value) is None:
            raise HawkError(f"Bad Hawk header: bad value for {shown}")
        if name in attributes:
            raise HawkError(f"Bad Hawk header: duplicate attribute {shown}")
        attributes[name] = value
        position = attribute.end()
    missing = [name for name in _REQUIRED_ATTRIBUTES if name not in attributes]
    if missing:
        raise HawkError(f"Bad Hawk header: missing {', '.join(missing)}")
    if _DIGITS.fullmatch(attributes["ts"]) is None or len(attributes["ts"]) > MAX_TS_DIGITS:
        raise HawkError("Bad Hawk header: ts must be whole seconds")
    if len(attributes["nonce"]) > MAX_NONCE_LENGTH:
        raise HawkError(f"Bad Hawk header: nonce longer than {MAX_NONCE_LENGTH} characters")
    return attributes


def normalized_string(attributes: dict[str, str], method: str, resource: str, host: str, port: int) -> str:
    """The 'hawk.1.header' text a request MAC covers."""
    ext = attributes.get("ext", "").replace("\\", "\\\\").replace("\n", "\\n")
    normalized = (
        f"hawk.1.header\n{attributes['ts']}\n{attributes['nonce']}\n{method.upper()}\n{resource}\n"
        f"{host.lower()}\n{port}\n{attributes.get('hash', '')}\n{ext}\n"
    )
    if attributes.get("app"):
        normalized += f"{attributes['app']}\n{attributes.get('dlg', '')}\n"
    return normalized


def payload_hash(content_type: str, body: bytes) -> str:
    """base64 SHA-256 of 'hawk.1.payload', the bare lower-case media type and the body."""
    media_type = content_type.split(";", 1)[0].strip(_JS_SPACE).lower()
    digest = hashlib.sha256(b"hawk.1.payload\n" + _utf8(media_type) + b"\n" + body + b"\n").digest()
    return base64.b64encode(digest).decode("ascii")


def timestamp_header(credentials: Credentials, now: float, error: str) -> str:
    """WWW-Authenticate value carrying the server's time and its MAC, so a client can correct its clock."""
    ts = int(now)
    tsm = _b64_hmac(credentials.key, f"hawk.1.ts\n{ts}\n")
    return f'Hawk ts="{ts}", tsm="{tsm}", error="{error}"'


def verify(
    authorization: str | None,
    request: Request,
    *,
    lookup: Callable[[str], Credentials | None],
    now: float,
    skew: int = SKEW_SECONDS,
) -> Verified:
    """Check a request's Hawk Authorization header; raise HawkError when it does not authenticate."""
    attributes = parse_authorization(authorization)
    credentials = lookup(attributes["id"])
    if credentials is None:
        raise HawkError("Unknown credentials")
    if credentials.algorithm != "sha256":
        raise HawkError("Unknown algorithm")
    if not credentials.key:
        raise HawkError("Invalid credentials")

    given_mac = attributes["mac"].encode("ascii")
    matched = False
    for resource in request.resources:
        normalized = normalized_string(attributes, request.method, resource, request.host, request.port)
        expected = _b64_hmac(credentials.key, normalized).encode("ascii")
        matched = hmac.compare_digest(expected, given_mac) or matched
    if not matched:
        raise HawkError("Bad MAC")

    if "hash" in attributes:
        expected_hash = payload_hash(request.content_type, request.body).encode("ascii")
        if not hmac.compare_digest(expected_hash, attributes["hash"].encode("ascii")):
            raise HawkError("Bad payload hash")

    ts = int(attributes["ts"])
    if abs(ts - now) > skew:
        raise HawkError("Stale timestamp", timestamp_header(credentials, now, "Stale timestamp"))
    return Verified(credentials=credentials, nonce=attributes["nonce"], ts=ts)
