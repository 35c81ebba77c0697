"""The key-management/v1 contract Genesys Cloud calls, as the sample Local Key Manager defines it. Every endpoint
needs Hawk; every error is JSON ``{"message", "status"}``: 400 for what the client sent wrong, 401 for
authentication, and never anything about key material."""

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from portal.audit.log import Actor, client_ip

from . import keypairs
from .actors import GENESYS_USER_HEADER, genesys_user
from .authentication import Client, Unauthenticated, authenticate
from .models import Origin

MAX_BODY_BYTES = 16 * 1024  # a decrypt request is about 600 bytes
MALFORMED_JSON = "Malformed JSON"
TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // 1024} KB"
NOT_FOUND = "There is no such endpoint"

Endpoint = Callable[..., JsonResponse]


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message, "status": status}, status=status)


def _body(request: HttpRequest) -> bytes:
    """The request body, refused before it is read when it says it is larger than any request of the contract."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = MAX_BODY_BYTES + 1
    if declared > MAX_BODY_BYTES:
        raise keypairs.LkmError(TOO_LARGE)
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise keypairs.LkmError(TOO_LARGE)
    return body


def endpoint(*methods: str) -> Callable[[Endpoint], Endpoint]:
    """An endpoint of the contract: the method, then the body's size, then Hawk, then the view, whose
    ``LkmError`` is a 400."""

    def decorate(view: Endpoint) -> Endpoint:
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> JsonResponse:
            if request.method not in methods:
                response = error(405, f"{request.method} is not allowed here")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                body = _body(request)
                # One transaction: the nonce is stored with what the request changes and its audit entry (one
                # commit), and a refusal (400) still keeps both. An authentication failure stores nothing.
                with transaction.atomic():
                    client = authenticate(request, body)
                    try:
                        return view(request, client, body, **kwargs)
                    except keypairs.LkmError as refused:
                        return error(400, str(refused))
            except keypairs.LkmError as refused:
                return error(400, str(refused))
            except Unauthenticated as refused:
                response = error(401, str(refused))
                response["WWW-Authenticate"] = refused.www_authenticate
                return response

        return csrf_exempt(never_cache(wrapper))

    return decorate


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=None, address=client_ip(request))


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise keypairs.LkmError(MALFORMED_JSON) from None
    if not isinstance(data, dict):
        raise keypairs.LkmError(keypairs.FIELDS_REQUIRED)
    return data


@endpoint("GET", "POST")
def keypair_collection(request: HttpRequest, client: Client, body: bytes) -> JsonResponse:
    if request.method == "POST":
        keypair = keypairs.create_keypair(
            client.tenant,
            origin=Origin.GENESYS,
            by=_actor(request),
            genesys_user_id=genesys_user(request.headers.get(GENESYS_USER_HEADER)),
            credential_id=str(client.credential_id),
        )
        return JsonResponse(keypairs.keypair_json(keypair))
    listed = [keypairs.keypair_json(keypair) for keypair in client.tenant.lkm_keypairs.all()]
    return JsonResponse(listed, safe=False)


@endpoint("GET")
def keypair_detail(request: HttpRequest, client: Client, body: bytes, keypair_id: str) -> JsonResponse:
    keypair = keypairs.find_keypair(client.tenant, keypair_id)
    if keypair is None:
        raise keypairs.LkmError(keypairs.UNKNOWN_KEYPAIR)
    return JsonResponse(keypairs.keypair_json(keypair))


# What OPTIONS answers, as the sample's DecryptOptions: the shape of a decrypt request and of its answer.
DECRYPT_OPTIONS = {
    "encryptBody": {
        "keypairId": "KeyPair id goes here",
        "body": "encrypted base64 string is here",
        "decryptType": None,
    },
    "decryptResponse": {"body": "Decrypted Response"},
}


@endpoint("POST", "OPTIONS")
def decrypt(request: HttpRequest, client: Client, body: bytes) -> JsonResponse:
    if request.method == "OPTIONS":
        response = JsonResponse(DECRYPT_OPTIONS)
        response["Allow"] = "POST, OPTIONS"
        return response
    data = _json_object(body)
    # decryptType is read from the query, as the sample's controller reads it, or from the body.
    decrypt_type = request.GET["decryptType"] if "decryptType" in request.GET else data.get("decryptType")
    plain = keypairs.decrypt(
        client.tenant,
        keypair_id=data.get("keypairId"),
        body=data.get("body"),
        decrypt_type=decrypt_type,
        by=_actor(request),
        genesys_user_id=genesys_user(request.headers.get(GENESYS_USER_HEADER)),
        credential_id=str(client.credential_id),
    )
    return JsonResponse({"body": plain})


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return error(404, NOT_FOUND)
