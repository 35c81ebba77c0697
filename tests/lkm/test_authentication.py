"""Hawk as the portal's servers hand requests over: runserver's stand-in Content-Type, and a Genesys user id cut to
fit the audit trail."""

from django.test import Client
from mohawk import Sender  # type: ignore[import-untyped]  # no stubs published

from lkm.actors import genesys_user
from lkm.models import MAX_NAME_LENGTH
from portal.web.text import visible
from tests.conftest import World
from tests.lkm.kit import API, TEST_ORIGIN, new_credentials, refusal


def _signed_get(credentials: dict[str, str], path: str, content_type: str) -> str:
    sender = Sender(
        {"id": credentials["id"], "key": credentials["authKey"], "algorithm": "sha256"},
        TEST_ORIGIN + path,
        "GET",
        content=b"",
        content_type=content_type,
    )
    return str(sender.request_header)


def test_an_empty_body_signed_without_content_type_passes_where_the_server_says_text_plain(world: World) -> None:
    # wsgiref, which runserver uses, hands a request without Content-Type over as text/plain.
    credentials = new_credentials(world.acme)
    header = _signed_get(credentials, f"{API}/keypair", "")
    answer = Client().get(f"{API}/keypair", HTTP_AUTHORIZATION=header, CONTENT_TYPE="text/plain")
    assert answer.status_code == 200, answer.content


def test_a_body_hashed_as_text_plain_still_passes_and_another_type_does_not(world: World) -> None:
    credentials = new_credentials(world.acme)
    as_text = _signed_get(credentials, f"{API}/keypair", "text/plain")
    assert Client().get(f"{API}/keypair", HTTP_AUTHORIZATION=as_text, CONTENT_TYPE="text/plain").status_code == 200
    as_json = _signed_get(credentials, f"{API}/keypair", "application/json")
    answer = Client().get(f"{API}/keypair", HTTP_AUTHORIZATION=as_json, CONTENT_TYPE="text/plain")
    assert refusal(answer, 401) == "Bad payload hash"


def test_a_genesys_user_id_is_cut_between_characters_never_inside_an_escape() -> None:
    for value in ["\x00" * 200, "a" * 149 + "\x1b", "\u202e" * 40, "ok-" * 80]:
        recorded = genesys_user(value)
        assert len(recorded) <= MAX_NAME_LENGTH
        kept = value[: len(recorded)]
        while visible(kept) != recorded and kept:  # the recorded text is the escape of a prefix of the value
            kept = kept[:-1]
        assert visible(kept) == recorded, (value[:10], recorded[-12:])
    assert genesys_user("user-42") == "user-42" and genesys_user(None) == ""
