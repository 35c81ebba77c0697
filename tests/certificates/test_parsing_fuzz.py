"""certificates.x509.parsing under hypothesis: whatever the bytes, the parser returns a certificate or raises
CertificateError with one readable sentence."""

import random
import re
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certificates.x509.chain import verify_chain
from certificates.x509.parsing import CertificateError, parse_certificate, parse_root_ca, status_at

from . import der_edit, pki
from .malformed import rich
from .parsing_helpers import _ca, now

# --- Nothing but CertificateError, whatever the bytes ---------------------------------------------------------------


@cache
def _samples() -> tuple[bytes, ...]:
    ca_cert, ca_key = _ca()
    cert, _ = pki.make_self_signed()
    issued, _ = pki.issue(ca_cert, ca_key)
    return (pki.pem(cert), pki.der(cert), pki.der(issued), pki.pem(ca_cert), pki.key_der_pkcs8(pki.make_key()))


def _mutate(data: bytes, draw: st.DrawFn) -> bytes:
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "delete", "insert"]))
        at = draw(st.integers(0, max(len(buffer) - 1, 0)))
        if kind == "flip" and buffer:
            buffer[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del buffer[at:]
        elif kind == "splice":
            other = draw(st.sampled_from(_samples()))
            start = draw(st.integers(0, len(other)))
            buffer[at:at] = other[start : start + draw(st.integers(0, 400))]
        elif kind == "delete":
            del buffer[at : at + draw(st.integers(1, 64))]
        else:
            buffer[at:at] = draw(st.binary(min_size=1, max_size=16))
    return bytes(buffer)


@st.composite
def asn1_mutants(draw: st.DrawFn) -> bytes:
    """A real certificate changed field by field (see ``der_edit.mutate``), most often signed again."""
    base, key = rich()
    cert = der_edit.Certificate.of(base)
    rng = random.Random(draw(st.integers(0, 2**32)))
    for _ in range(draw(st.integers(1, 4))):
        der_edit.mutate(cert.tbs, rng)
    return cert.der(key if draw(st.booleans()) else None)


@st.composite
def hostile_bytes(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 4))
    if choice == 0:  # mostly mutations: random bytes rarely get past the first check
        return draw(st.binary(max_size=2048))
    if choice == 1:
        return draw(asn1_mutants())
    return _mutate(draw(st.sampled_from(_samples())), draw)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_bytes())
def test_any_bytes_give_a_certificate_or_a_certificate_error(data: bytes) -> None:
    for parse in (parse_certificate, parse_root_ca):
        try:
            parsed = parse(data)
        except CertificateError as error:
            message = str(error)
            assert message and "\n" not in message
            assert not re.search(r"ParseError|asn1|Traceback|0x[0-9a-f]", message, re.IGNORECASE)
            continue
        assert status_at(parsed, now()) in ("valid", "expired", "not-yet-valid")
        assert verify_chain(parsed, list(_samples()), at=now()).reason
        assert parse_certificate(parsed.pem.encode()) == parsed
