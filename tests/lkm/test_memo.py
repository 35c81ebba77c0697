"""What a worker remembers between requests is bounded, expires, and never outlives a revocation made elsewhere."""

import os

from django.utils import timezone

from lkm.memo import Memo
from lkm.models import Credential
from tests.conftest import World
from tests.lkm.kit import LkmClient, encrypt_to, new_credentials, refusal


def test_the_least_recently_used_goes_first_when_full() -> None:
    memo: Memo[int] = Memo(size=2, seconds=60)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # "b" is now the least recently used
    memo.put("c", 3)
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)


def test_values_expire() -> None:
    now = [1000.0]
    memo: Memo[int] = Memo(size=2, seconds=60, clock=lambda: now[0])
    memo.put("a", 1)
    now[0] += 59
    assert memo.get("a") == 1
    now[0] += 2
    assert memo.get("a") is None


def test_a_credential_revoked_on_another_node_is_refused_at_once(world: World) -> None:
    """Another node revokes it in the database: this worker remembers the credential's key, but the nonce is claimed
    only for an active credential, so the next request is refused."""
    lkm = LkmClient(new_credentials(world.acme))
    keypair = lkm.create_keypair()
    assert lkm.decrypt(keypair["id"], encrypt_to(keypair["publicKey"], os.urandom(32))).status_code == 200

    Credential.objects.filter(pk=lkm.credentials["id"]).update(revoked=timezone.now())

    assert refusal(lkm.get("/keypair"), 401) == "Unknown credentials"
    assert refusal(lkm.get("/keypair"), 401) == "Unknown credentials"  # and forgotten by this worker


def test_get_or_make_remembers_what_it_made_but_not_nothing() -> None:
    memo: Memo[int] = Memo(size=4, seconds=60)
    made: list[str] = []

    def make(key: str, value: int | None):
        def maker() -> int | None:
            made.append(key)
            return value

        return maker

    assert memo.get_or_make("a", make("a", 1)) == 1
    assert memo.get_or_make("a", make("a", 2)) == 1  # remembered: not made again
    assert memo.get_or_make("b", make("b", None)) is None
    assert memo.get_or_make("b", make("b", 3)) == 3  # nothing was remembered for "b"
    assert made == ["a", "b", "b"]
