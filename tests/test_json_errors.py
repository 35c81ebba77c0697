"""A client that asked for JSON gets its refusals as JSON with the reason, whatever refused the request: the size
and field limits Django checks before any view runs, CSRF, a missing object. A browser still gets the page."""

import json

from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import World
from tests.factories import seed_files, upload_data

JSON = {"Accept": "application/json"}


def preview_url(slug: str = "acme") -> str:
    return reverse("certificate-preview", args=[slug])


def test_an_oversized_field_sent_to_the_preview_is_a_json_error(world: World, client_for) -> None:
    cert, key = seed_files()
    data = upload_data(cert, key, alias="a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    response = client_for(world.alice).post(preview_url(), data, headers=JSON)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    limit = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024:,} KB"
    assert json.loads(response.content) == {
        "error": f"The request is too large: its fields other than files may hold at most {limit} in all."
    }


def test_an_oversized_carried_certificate_field_is_a_json_error_too(world: World, client_for) -> None:
    body = {"certificate_pem": "-----BEGIN CERTIFICATE-----\n" + "A" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    response = client_for(world.alice).post(preview_url(), body, headers=JSON)
    assert response.status_code == 400
    assert "too large" in json.loads(response.content)["error"]


def test_too_many_fields_sent_to_the_preview_is_a_json_error(world: World, client_for) -> None:
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client_for(world.alice).post(preview_url(), fields, headers=JSON)
    assert response.status_code == 400
    assert json.loads(response.content)["error"].startswith("The request has too many fields: at most 1,000")


def test_a_browser_gets_the_same_reason_on_the_error_page(world: World, client_for) -> None:
    cert, key = seed_files()
    data = upload_data(cert, key, alias="a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    response = client_for(world.alice).post(reverse("certificate-upload", args=["acme"]), data)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "The request is too large" in response.content.decode()


def test_a_missing_csrf_token_is_a_json_error_for_a_json_client(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.alice)
    cert, key = seed_files()
    response = client.post(preview_url(), upload_data(cert, key), headers=JSON)
    assert response.status_code == 403
    assert "Reload the page" in json.loads(response.content)["error"]
    page = client.post(preview_url(), upload_data(cert, key))
    assert page.status_code == 403 and "Reload the page" in page.content.decode()


def test_another_tenants_preview_is_a_json_404(world: World, client_for) -> None:
    cert, key = seed_files()
    response = client_for(world.alice).post(preview_url("globex"), upload_data(cert, key), headers=JSON)
    assert response.status_code == 404
    assert set(json.loads(response.content)) == {"error"}
