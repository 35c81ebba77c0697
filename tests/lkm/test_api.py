"""The key-management/v1 contract as Genesys Cloud uses it: keypairs, decrypt, the sample's own vectors, and the
400s, all signed by mohawk."""

import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto.core import Integer, Sequence  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lkm.models import Keypair
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.conftest import World
from tests.lkm.kit import Answer, LkmClient, encrypt_to, import_keypair, new_credentials, pkcs1_der

FIELDS_REQUIRED = "Decrypt body and keypairId must be filled out"
UNKNOWN_KEYPAIR = "No key pair found with the id provided"

# The sample Local Key Manager's DecryptionServiceTest: bare PKCS#1 private keys, a DEK encrypted to each (OAEP
# SHA-1, and PKCS#1 v1.5 as CMS wraps it) and the DEK the sample answers.
SAMPLE_OAEP_PRIVATE_KEY = (
    "MIIG5AIBAAKCAYEAjZgSlDJluvlMFFdRF3kbvY9+c0XxEM74c3dL6dQT6Nn3kVOxciMQpb03VHW2LlAXR8HjUmqA9RH8XZW7lI/ZyiC1M/6NzTa0"
    "dAIxxuVvKE5sxScHprvTMoeNRbqAJKVFsTiM37bn0YUQzJKSpfAhh1JlSr5L2qqKCoNn2EoNbuOd69cPNQ/hwk4kc9Tw2RVXwvr3xpFq+MZOFvfP"
    "npScMT6iHpR5JmpMci+leCDbBQmzRJjKtACFNpaog/fuPyJVQvOxN2i4xoAfFh1QCDyz1Snn18Zuk6lO4y8ETHhCfjvBQ1gu61OdSQdYtbJDTi70"
    "hbhIDXXUtF68fI5p9RsTghK8kXNELbihUvH1n/OQ8E7wcm2CFQvO4gy6yF4PDdMcX6PnvogUVss3TcR7Wky/hmZlS2uMe/n6ASgCV+zGXmIuhqaE"
    "1nymbzWP+6JzZWemBpu83PfArBOOpJGvHhYfv2NLczt11OuxMpTTTDhWUottGUnD3eTBn9YPCGZhTKTTAgMBAAECggGARB3ski7Mke5skzyOXmR8"
    "2+y0QHBdUGDBVYsGki7chSCW4OsKaoZD8/fbLl6SjiUpjfPQkE18TGmipsLpwsaRV5P0mFbVkOvIVCbaG300xIc1/IKSQ7wIFj7vz6OxEfAQXvl9"
    "jAJJ85m4QzIgKoQjHR6ebB6wDzoLvpMI2hyF6drGljaXskc5rGg7UR4X39dMqRhjKru6YoPD/XiqAPgtS+N9yohS4BAzRpt1Vx03QG0yOMXofj/h"
    "1ikUWKhljSnOc2/EzL+Z3i/C0wVdDWF/dFkKjjz3FZHP5vaHd3n9TtdGSTK9MQkUROgD3tWLzgX7i5lAr5ac3YM44I83UmXctIf8ZRqf0kV8qN94"
    "cQnK99Ow+kLoCY3eNBNVGEtL/O+d3dq0eDk8b/k0b6rHA3d30IoptsfjH72WiclughQveO8/86P+1lMl3yzEKhX4gJJrxIsamMDHg5AvCuWscVld"
    "Sl3DtI6fK6Fp+o9BWt7p7MsJ4J45S/urM7KVl1RU6j7BAoHBAMNwhFKt1hxaeZln5ZHE3tA51V8wRt5odVriVt06EIo8AmOSwUwKm3IWRqGQQ1wP"
    "cVGqujC4tydYN4zyh2zJqvkbS1LPBlBTGe2RiAjGCDC2n+iHMTv3/l46yQK1wrbvGV3lWOzpN7ViOVD2P8W3F9+mDpFggVZyplh7bKFFy+S2MdMN"
    "DDGBc2hpNusp4n2HWb69qbidKTejumbpqLrBzAuRxmMDUTWNkXP6taLugUCrixMW2MEATiLH4bqgli0WBwKBwQC5eDINrtB+jAMiWbHDtw/ji5dA"
    "VjFuYHCeZeTcKnlV2oxEk/F04a5BPkyuIxUoeoGRCLZjqZeCPeBuaAycvNs7TbMBhiBE5ZHuusYwdf6zAQVE0VDPzi5tuMvOnlMoezYmPwa1MAFj"
    "EchTNM/1g7MmHj/71S2DMUVwKSwQJIenFoLhsA576V3hS8TGNNvQd64duAQrmg21VRwwfxtP/Vvr+3+WiKkvDOF7fYCj5QsVu1KAg6VUdMtya5OI"
    "SMeP59UCgcAloyyIc5vROAdE6MJIMT6roQebXkO3nyxChWYvEniO9oGLRX7eMwi+jtWpVYvzVbIABT34FgqHlDCWfzpfU/MOKBh4aRARNf+/RZCK"
    "CAEZyIHBGQ/9OYQOB4ogcHqAGkmrUHiwnzUwRCs/kTy0yc7aLjOOAaTGziuEzLgd0sAyWnf76f5YJlLgX6rI3PcWL5Oz7PibagC/C1Phb8wjsyCl"
    "dbxb4w6nnozNZhHGv+G6X47X7UVu3a0ue4nYFAb3xc8CgcEAg1q0IGqx8R4aTia2NoWdNCu12HPzGFgnCpfhqWhPfNWGyD77ICuBrWWBC0d/gaaZ"
    "wu0nt5fx3OUT4T3ByPQcVHjoEWk7y2/HlgsjuEipNX/AioewMyy0RzM87L3G6YGxzQ6QIpy4LsD2Xq+lpR08MP/1ktbdH/AyXIhcU6Z7iIPx+AMn"
    "juytd5Wg7Dudfpx0bUnZckPt94Iqr9IlttYaVxxMtYFeSRtXSo2NIQZjfmWnvar+2bzKJeQ4nanl5G5tAoHBAKIiEd4hgEhCyanRC7bsjhg01uSR"
    "0Dp438IJQNaEOKBzX2USnihaLxVfNomrka9Wi1MncmVLZFrJJpWRZVnDeFp0/pTMum7jhVcFSvzgJkO50ZXzR7nL68o0kB2U8NzwehPOXcXO81T4"
    "8XCqathUT5kfBgT+KAnwp8zugsoXDrRgGfJKPStMChy/NyOnlLvIMh4UXKdksdJmMJA9OHUuaeyEZcAzbb9Mo1GwyJB8h6TzYGboGrghIkRYnxRJ"
    "OtyYLw=="
)
SAMPLE_OAEP_DEK = (
    "ZFii5D6kHC4YdfXT2gnxYWAZ+9PFnNR7BpFkZEW+Lk0NNeQ7Zb8GQJHHwM0HnZot3PssHfOW3jOjJI/Kylel1M5hvI9r8iWnztuXgyQ/Uri6CDOG"
    "0dvtOcosWyfHshRPQIvEG4K/IYqowKyklpRLBpgUoPaEGxGCF8BRNhSzCykcztABxFHViRmHcDqTwuudZ4pleQmvfPwjf7Qf91W7v5B8QsLy2lql"
    "iBZlHgYNZbKBL8G4KZAsTASd+XNzjtYyW4JfyUVDzF1Rh1rJey6sMSbDgP7mNg9WzTo/jwPNTyuLg8bWuFpcjyqs30Ou+ArruzOBsKHuOwFwJ3xv"
    "zkbSTckjhpoGR1E4MlBufM42yUfvX6pVJsGISUsVw6da7Cg6OV+YG6S+eBxlvjMx7aPN0S1o3R5riM7niDyVByxXEEVqpy1oxW9q+G7z4cOj4N6V"
    "S/Z9/+lJAsKjHdD9Ym1R1xSkaO+rzCRTzlzMrWGf7SRc1ETZ+MMUDc7+aAiy6z3o"
)
SAMPLE_OAEP_ANSWER = "7+YOUOgTgqOfhKRq0//eS94VrhyCwiYbQQcgfrOaG5g="
SAMPLE_PKCS1_PRIVATE_KEY = (
    "MIIG4wIBAAKCAYEAktJdZ9uGj8pPBWHb3Sr+qCc6YO7bN6fjbXWnk1TVIZl76elcLro5a2hJtJgb7mH5aQVklfxaF37MnIPzn8RYJnFfyOtVjLoj"
    "42A9+loQlTj8slZmT3N2GG7QeG+etlxreRqwmp3UaNNd/68cEysnw3wS+LkhZVaF7e33ObL4PyKDcCOVKGxVcvIZU1gDdEdz+miFs0sfPtAVkFKR"
    "igYHh2UET1JyZ+XVfXabOODlJh6uKPQrLedLdkv01/UV8ENFPJwPuSLOgX0LiomFMDlTe/tUtl/X/NkTCgc332f2ZEQY2xRzCprygCPb6Q13mnBj"
    "1aakFnMvl0o1wrYBtSNgOxS+8EJJXE6bo43L00yWvL3Y86bS4L6aqP3hkgsB1TizwzUvM8KAg3B3cgTUAsqOxk9jgss2dXSUKj0KgxtN0XVGCBn8"
    "3T4UEbDdRTzl6pT6f9busoaMkEI4El/FghNyU+/TEk3yK8PM4VlXGiwHHPh3l9FQLSeZ6t/H9DZATRWXAgMBAAECggGAPwF/i/4s9K/A0XJ5Q6Qb"
    "vFV5O/fEo1Gsy2BeFV+mRtDy2CKIqJTJ50nNt24/LkFlIqhpzeOJVePYMqJ9feZoXbbxf+tdvxJyLDU046aazy6xYmapaRcHatzDIavk1CU9Ca9m"
    "cjOg34s1H3AqAB/Y5I7uJUZtCmvi9YPVQDGJTq6k8Q6UB9DVqooyTA3NDa1MG/2WwqZONkpdtp14T17fBD9ZZiDfb661uy2W1wXL0FwCKRj/HqfP"
    "PmjCHZrTW1PCTjhWvlQlfejJmTJ/1ZnZVte3C2AaLJrOE9+v/bmtV56qSctVLfVvfDpEEMeXcSC1IwxlaOq3zwYRcVgE8tvBtbbfT9d2Sw//Sxjh"
    "8k6t2SztQZa93HK9qpn6mvfNXAB/R2PdN3ZVog4zNCu/iAWzKQ8vXQQmfWHJ8f8mhzPe1F8zMm1Sz0uMD17NKJEeBPMIoA2XvYbFxwRzq5m4YUns"
    "FGoiPQgnXEJ+iZm99lrdhblQAQG2xAZAkFJUBVdDgj7BAoHBAOHAXuU59Sf149LHmTDlH2U9Ab9IdkSRQ+xT5qXE5uxwA9PwGi5wB28e61i+jXAW"
    "IJ2MNwJW+0jWZMfq8NJs/G0yyRUfDDQ+KVSpzCUMOUOgC59SxWaIFb1xV/d1vpTM3wocSAxmTOQ7zpcTqTnIhts/IupAAn0ew1IpIhcoa0npjmxr"
    "vFZb43IIhhRpTITZQj3S+URGVwNj3prstuq0RDN+wXEevXE4jFjCgL35Dswmvzyq6r541retpdvJKkpyWQKBwQCmfpTEhKZbU+TjFbE6/WlHH3xV"
    "3/OJRBtxnCAO/EYbo0ZurYN8Dq/r1BxpBljh28oVroCLyg5si+pmOfNUq39/vbkQDYTckKlnrzHJ2DsHyFyUoPS50OpiET3crpno383OXl44n2em"
    "BBOykpzS78v/k9W6613mkIPf+ANOsIbrU94wKBsOID0fSR+GeqAmn/X7QBLk/3psCu1v5l5EC1n6z0+I1zLw2d9j6+6ScVd8jvbsjn64u1GTqBAJ"
    "+lA3aW8CgcB/atKk0seaXGDQUTQXstq7i2l3C3ElVlBeDST7n10vSjH+51//od+wSmVPW439G6AhDEjoGywNemS7qdFvE3COOcHhF/sNaaBuVsAQ"
    "kQupLaYhsNgV/O04VcbutxhwaAnjbP8FcKApmdAK2WAEazgie0o7qRE+iaR4tRq2s2uK9jYa39wXahm//SugTaaQvQd0WaWzcXgfQ7ka/ExpwIFW"
    "B08rh8wpIV+loXKExxQhCiWaGmYQR6f5WBtrJ+mkx1ECgcAdIQRSJYsda14eRMtPMMrcgKu2MopfN6U9iT0qogR6DWTjNEROzhsFPYUC8vNWAKgo"
    "hvFCg8VmRExsOjNSWvbhmIXqQxM9q6mX1FT3pXcec3WPI2HtqJl5Mt8J3xpaXd2Z/3Son2r45rmzgmchmIauXmUEYO16y0nnQ3MAr23Lek7jSgEB"
    "xa4r7RUw5/9hApd8r8cefXwjrv2/mCRh70J82QxnOo9VCClHSB3jTSUrS6/zzzJoi41IMh0sQbkLGM0CgcEAoL7gTrFJPdiWsUuOLlUq8tNbMPk6"
    "0UlIxl6NE1mU7Pcxkga9QtRYWYiXxY4Tc9m1Lbd5m47px3YsUdwC99fjH5+vnqg/fOr+Jyco7zOTduBMQS0O0xx7z3mHxenpaHU1Ac1eOh2nZ2ab"
    "s3G/IyzM1v2TKdJPwk3we27/eqv8n/fFLHZ+kGt1dpYg/ZfKLGoYoLpHVmnJ/MBFwdhHN7Bc7lmjSVEP2xdj9Tj+xC8xmCvLklkQ2qbw5o0PUkPD"
    "IsCI"
)
SAMPLE_PKCS1_DEK = (
    "S5exH1pFWh3y97wboy3ctDkaZhxVeNrUcD1YVrtbsLmA+9ioojHt1QfqmeLilAtN+/kAlfFfdwRq5kodhNKAqRrihI/0nnbKn4OVfCIM4zDRnX13"
    "FrhdEvKQwr6jVCstr0qZ/0lKXjvyDnvXiUIAXSIpzgRBEqK+3ZcSjQs9J3Em5QtG5wow/bwBNhcucHBdkIUMDS/uE56F1ZKja5WKrMzfBpnjtLFT"
    "2dXa6I3DBNCgzIeRrNuYZfYbt5POrgzB6uJkuyOdQiTjUXQM8Xe1oSC/n5vOdU7CGXrc7dW/CSjQhiCk92L2x02GKWNcF/EDJeB0+LoO6ktH2YoI"
    "KQpPaol2+PcoIoe2/Lp6DPqbxTSoze35Tqml7fmzeAR9rC9DSSQHoDxIw+ppBguU/YwL16him9O7hzx+Vjk9llIYSNoIErWnVFC9FKJ62gJ6Jpz4"
    "oX37UwdH01Mv+Dn0wlSmsPDyAYNf0V1n/OfNkh9ahXvHb0woGzsOrfyCYnDWOQUC"
)
SAMPLE_PKCS1_ANSWER = "PKIKLwo2+u9VH4tDHRizx8Lk9eyz2H/yUA6P6uqsKy8="


@pytest.fixture
def lkm(world: World) -> Iterator[LkmClient]:
    """acme's Genesys Cloud; afterwards, no answer it received mentions a private key."""
    client = LkmClient(new_credentials(world.acme))
    yield client
    for answer in client.answers:
        assert b"private" not in answer.content.lower(), answer.content[:200]


@pytest.fixture
def pool_keypair(world: World) -> tuple[str, str]:
    """(id, publicKey) of an acme keypair holding a cached test key: quicker than generating one."""
    key = pki.make_key(3072, 0)
    public_der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    return import_keypair(world.acme, pkcs1_der(key)), base64.b64encode(public_der).decode()


def refusal(answer: Answer, status: int = 400) -> str:
    """The message of a JSON error answer, after checking its shape."""
    assert answer.status_code == status, answer.content
    assert answer["Content-Type"] == "application/json"
    data = answer.json()
    assert set(data) == {"message", "status"} and data["status"] == status
    assert isinstance(data["message"], str) and data["message"]
    return str(data["message"])


# --- keypairs ---


def test_created_keypair_is_a_bare_pkcs1_rsa_3072_public_key(lkm: LkmClient, world: World) -> None:
    before = time.time() * 1000
    created = lkm.create_keypair(user_id="genesys-user-7")
    after = time.time() * 1000

    assert set(created) == {"id", "publicKey", "dateCreated"}
    assert str(uuid.UUID(created["id"])) == created["id"]
    der = base64.b64decode(created["publicKey"], validate=True)
    parsed = Sequence.load(der, strict=True)
    assert [type(parsed[i]) for i in range(len(parsed))] == [Integer, Integer]
    assert parsed.dump() == der
    public_key = serialization.load_der_public_key(der)
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 3072
    assert parsed[0].native == public_key.public_numbers().n and parsed[1].native == 65537
    assert isinstance(created["dateCreated"], int)
    assert before - 1000 <= created["dateCreated"] <= after  # whole seconds: up to one second before the request

    entry = AuditEntry.objects.get(action="lkm-keypair-created", tenant=world.acme)
    assert entry.details["keypair"] == created["id"]
    assert entry.details["genesys_user"] == "genesys-user-7"
    assert entry.details["credential"] == lkm.credentials["id"]


def test_created_keypair_is_listed_and_shown(lkm: LkmClient, world: World) -> None:
    created = lkm.create_keypair()
    globex_key = pki.make_key(3072, 1)
    import_keypair(world.globex, pkcs1_der(globex_key))  # another tenant's: never listed

    listed = lkm.get("/keypair")
    assert listed.status_code == 200
    assert listed.json() == [created]

    shown = lkm.get(f"/keypair/{created['id']}")
    assert shown.status_code == 200
    assert shown.json() == created
    assert lkm.get(f"/keypair/{created['id']}/").json() == created  # a trailing slash is tolerated


@pytest.mark.parametrize(
    "date_created",
    [
        datetime(2004, 6, 28, 16, 26, 55, 699000, tzinfo=UTC),  # 1088440015.699 * 1000 is 1088440015698.99... in floats
        datetime(2021, 3, 4, 5, 6, 7, 891000, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # the sample's datetime(6) may hold microseconds
    ],
)
def test_imported_keypair_keeps_its_date_to_the_millisecond(
    lkm: LkmClient, world: World, date_created: datetime
) -> None:
    keypair_id = import_keypair(world.acme, pkcs1_der(pki.make_key(3072, 0)), date_created)
    epoch_ms = (date_created - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert lkm.get(f"/keypair/{keypair_id}").json()["dateCreated"] == epoch_ms


def test_empty_list_before_any_keypair(lkm: LkmClient) -> None:
    answer = lkm.get("/keypair")
    assert answer.status_code == 200 and answer.json() == []


def test_another_tenants_keypair_is_unknown(lkm: LkmClient, world: World) -> None:
    globex_id = import_keypair(world.globex, pkcs1_der(pki.make_key(3072, 1)))
    assert refusal(lkm.get(f"/keypair/{globex_id}")) == UNKNOWN_KEYPAIR
    assert refusal(lkm.get(f"/keypair/{uuid.uuid4()}")) == UNKNOWN_KEYPAIR
    assert refusal(lkm.get("/keypair/not-a-uuid")) == UNKNOWN_KEYPAIR


# --- decrypt ---


def test_decrypt_oaep_sha1_by_default(lkm: LkmClient, world: World) -> None:
    created = lkm.create_keypair()
    data_key = os.urandom(32)
    answer = lkm.decrypt(created["id"], encrypt_to(created["publicKey"], data_key), user_id="agent-42")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"body": base64.b64encode(data_key).decode()}

    entry = AuditEntry.objects.get(action="lkm-decrypted", tenant=world.acme)
    assert entry.details["keypair"] == created["id"]
    assert entry.details["genesys_user"] == "agent-42"
    assert entry.details["decrypt_type"] == "oaep"
    keypair = Keypair.objects.get(pk=created["id"])
    assert keypair.decrypt_count == 1 and keypair.last_used is not None


@pytest.mark.parametrize("where", ["query", "body"])
def test_decrypt_pkcs1(lkm: LkmClient, world: World, pool_keypair: tuple[str, str], where: str) -> None:
    keypair_id, public_key = pool_keypair
    data_key = os.urandom(32)
    body = encrypt_to(public_key, data_key, pkcs1=True)
    if where == "query":
        answer = lkm.decrypt(keypair_id, body, query_type="pkcs1", user_id="agent-1")
    else:
        answer = lkm.decrypt(keypair_id, body, decrypt_type="pkcs1", user_id="agent-1")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"body": base64.b64encode(data_key).decode()}
    entry = AuditEntry.objects.get(action="lkm-decrypted", tenant=world.acme)
    assert entry.details["decrypt_type"] == "pkcs1" and entry.details["genesys_user"] == "agent-1"


def test_each_decrypt_is_counted_and_audited(lkm: LkmClient, world: World, pool_keypair: tuple[str, str]) -> None:
    keypair_id, public_key = pool_keypair
    assert Keypair.objects.get(pk=keypair_id).last_used is None
    for user in ("first", "second", "third"):
        assert lkm.decrypt(keypair_id, encrypt_to(public_key, os.urandom(32)), user_id=user).status_code == 200
    first_used = Keypair.objects.get(pk=keypair_id).last_used
    time.sleep(0.01)
    assert lkm.decrypt(keypair_id, encrypt_to(public_key, os.urandom(32)), user_id="fourth").status_code == 200

    keypair = Keypair.objects.get(pk=keypair_id)
    assert keypair.decrypt_count == 4
    assert first_used is not None and keypair.last_used is not None and keypair.last_used > first_used
    audited = AuditEntry.objects.filter(action="lkm-decrypted", tenant=world.acme).order_by("id")
    assert [entry.details["genesys_user"] for entry in audited] == ["first", "second", "third", "fourth"]


def test_options_decrypt(lkm: LkmClient) -> None:
    answer = lkm.options("/decrypt")
    assert answer.status_code == 200
    assert set(answer.json()) == {"encryptBody", "decryptResponse"}


# --- the sample Local Key Manager's own cases ---


def test_sample_oaep_vector(lkm: LkmClient, world: World) -> None:
    keypair_id = import_keypair(world.acme, base64.b64decode(SAMPLE_OAEP_PRIVATE_KEY))
    answer = lkm.decrypt(keypair_id, SAMPLE_OAEP_DEK)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"body": SAMPLE_OAEP_ANSWER}


@pytest.mark.parametrize("where", ["query", "body"])
def test_sample_pkcs1_vector(lkm: LkmClient, world: World, where: str) -> None:
    keypair_id = import_keypair(world.acme, base64.b64decode(SAMPLE_PKCS1_PRIVATE_KEY))
    options = {"query_type": "pkcs1"} if where == "query" else {"decrypt_type": "pkcs1"}
    answer = lkm.decrypt(keypair_id, SAMPLE_PKCS1_DEK, **options)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"body": SAMPLE_PKCS1_ANSWER}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"body": SAMPLE_OAEP_DEK},
        {"keypairId": "11111111-1111-1111-1111-111111111111"},
        {"keypairId": "", "body": SAMPLE_OAEP_DEK},
        {"keypairId": "11111111-1111-1111-1111-111111111111", "body": ""},
        {"keypairId": None, "body": None},
        {"keypairId": 7, "body": SAMPLE_OAEP_DEK},
        [],
        ["keypairId", "body"],
        "a string",
        42,
        None,
    ],
    ids=repr,
)
def test_missing_fields(lkm: LkmClient, body: object) -> None:
    assert refusal(lkm.post("/decrypt", json.dumps(body))) == FIELDS_REQUIRED


def test_no_body_at_all(lkm: LkmClient) -> None:
    assert refusal(lkm.post("/decrypt")).startswith(("Decrypt body", "Malformed"))


def test_unknown_keypair(lkm: LkmClient) -> None:
    assert refusal(lkm.decrypt(str(uuid.uuid4()), SAMPLE_OAEP_DEK)) == UNKNOWN_KEYPAIR
    assert refusal(lkm.decrypt("keypairId", "string")) == UNKNOWN_KEYPAIR  # the sample's testNullKeyPairDecryption


def test_another_tenants_keypair_does_not_decrypt(lkm: LkmClient, world: World) -> None:
    globex_id = import_keypair(world.globex, base64.b64decode(SAMPLE_OAEP_PRIVATE_KEY))
    assert refusal(lkm.decrypt(globex_id, SAMPLE_OAEP_DEK)) == UNKNOWN_KEYPAIR
    assert not AuditEntry.objects.filter(action__startswith="lkm-decrypt").exists()
    assert Keypair.objects.get(pk=globex_id).decrypt_count == 0


# --- 400s ---


@pytest.mark.parametrize("body", ["not base64!", "QUJ", "QUJDRA=x", "QU JD", "Zm9v\x00"], ids=repr)
def test_bad_base64(lkm: LkmClient, pool_keypair: tuple[str, str], body: str) -> None:
    assert "base64" in refusal(lkm.decrypt(pool_keypair[0], body))


def test_deeply_nested_json(lkm: LkmClient) -> None:
    assert refusal(lkm.post("/decrypt", b"[" * 8000 + b"]" * 8000)) in ("Malformed JSON", FIELDS_REQUIRED)


@pytest.mark.parametrize("body", [b"{", b'{"keypairId": ', b"\xff\xfe", b"{'keypairId': 'x'}", b"NaN-"], ids=repr)
def test_malformed_json(lkm: LkmClient, body: bytes) -> None:
    assert refusal(lkm.post("/decrypt", body)) == "Malformed JSON"


@pytest.mark.parametrize("decrypt_type", ["oaep", "PKCS1", "", "pkcs1 ", "null"])
@pytest.mark.parametrize("where", ["query", "body"])
def test_unknown_decrypt_type(lkm: LkmClient, pool_keypair: tuple[str, str], decrypt_type: str, where: str) -> None:
    keypair_id, public_key = pool_keypair
    options = {"query_type": decrypt_type} if where == "query" else {"decrypt_type": decrypt_type}
    message = refusal(lkm.decrypt(keypair_id, encrypt_to(public_key, os.urandom(32)), **options))
    assert message == 'If provided, decryptType must be either "pkcs1" or null'


@pytest.mark.parametrize("decrypt_type", [1, True, ["pkcs1"], {"type": "pkcs1"}], ids=repr)
def test_decrypt_type_of_another_json_type(lkm: LkmClient, pool_keypair: tuple[str, str], decrypt_type: object) -> None:
    keypair_id, public_key = pool_keypair
    body = {"keypairId": keypair_id, "body": encrypt_to(public_key, os.urandom(32)), "decryptType": decrypt_type}
    assert "decryptType" in refusal(lkm.post("/decrypt", body))


def test_body_encrypted_to_another_key(lkm: LkmClient, world: World, pool_keypair: tuple[str, str]) -> None:
    keypair_id, _ = pool_keypair
    other = (
        pki.make_key(3072, 2).public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    )
    body = encrypt_to(base64.b64encode(other).decode(), os.urandom(32))
    assert "does not decrypt" in refusal(lkm.decrypt(keypair_id, body))
    refused = AuditEntry.objects.get(action="lkm-decrypt-refused", tenant=world.acme)
    assert refused.details["keypair"] == keypair_id
    assert Keypair.objects.get(pk=keypair_id).decrypt_count == 0


def test_body_too_short_for_the_key(lkm: LkmClient, pool_keypair: tuple[str, str]) -> None:
    assert "does not decrypt" in refusal(lkm.decrypt(pool_keypair[0], base64.b64encode(b"\x01" * 32).decode()))


def test_body_over_16_kb(lkm: LkmClient, pool_keypair: tuple[str, str]) -> None:
    body = {"keypairId": pool_keypair[0], "body": "A" * (16 * 1024)}
    assert "larger than 16 KB" in refusal(lkm.post("/decrypt", body))


def test_long_base64_body_does_not_decrypt(lkm: LkmClient, pool_keypair: tuple[str, str]) -> None:
    # under 16 KB, but far longer than any RSA block the portal holds
    assert "does not decrypt" in refusal(lkm.decrypt(pool_keypair[0], "A" * 8000))


# --- 405 ---


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/keypair"),
        ("DELETE", "/keypair"),
        ("OPTIONS", "/keypair"),
        ("POST", "/keypair/11111111-1111-1111-1111-111111111111"),
        ("DELETE", "/keypair/11111111-1111-1111-1111-111111111111"),
        ("GET", "/decrypt"),
        ("PUT", "/decrypt"),
        ("PATCH", "/decrypt"),
    ],
)
def test_other_methods(lkm: LkmClient, method: str, path: str) -> None:
    answer = lkm.request(method, path)
    assert refusal(answer, 405) == f"{method} is not allowed here"
    assert answer["Allow"]
    assert method not in answer["Allow"].split(", ")
