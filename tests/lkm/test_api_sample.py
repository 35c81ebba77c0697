"""The sample Local Key Manager's own cases, through the contract: its DecryptionServiceTest vectors (keys it
stores, DEKs Genesys Cloud encrypted to them, the answers it gives) and its controller's messages."""

import base64
import json
import uuid
from collections.abc import Iterator

import pytest

from lkm.models import Keypair
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.lkm.kit import LkmClient, import_keypair, refusal

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
def lkm(lkm: LkmClient) -> Iterator[LkmClient]:
    """The shared client (no answer mentions a private key), and no answer holds any part of the sample's keys."""
    yield lkm
    client = lkm
    for key in (SAMPLE_OAEP_PRIVATE_KEY, SAMPLE_PKCS1_PRIVATE_KEY):  # nor any part of the keys it holds
        assert all(
            key[start : start + 64].encode() not in answer.content
            for answer in client.answers
            for start in range(0, len(key), 64)
        )


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
