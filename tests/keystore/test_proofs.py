"""The key drill's record: ``keystore.api.record_proof`` and what the Keystore page shows of it ("Last proven", the
last failure, the "Verify keys" button)."""

import html
import re
from datetime import timedelta

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path, reverse
from django.utils import timezone

import portal.urls
from keystore import api
from keystore.models import KeystoreEntry
from tests.keystore.helpers import store


def _verify_stand_in(request: HttpRequest, tenant: str) -> HttpResponse:
    return HttpResponse()


# The portal's URLs with a view named as the key drill's: the Keystore page offers its button once that name routes.
urlpatterns = [
    *portal.urls.urlpatterns,
    path("t/<slug:tenant>/recordings/verify-keys/", _verify_stand_in, name="recordings-verify-keys"),
]


def reloaded(entry: KeystoreEntry) -> KeystoreEntry:
    return KeystoreEntry.objects.get(pk=entry.pk)


def row_of(page: str, alias: str) -> str:
    """The text of the entry's table row, tags removed and entities decoded."""
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", " ", cell)) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        if cells and cells[0].strip() == alias:
            return " ".join(" ".join(cells).split())
    raise AssertionError(f"no row for {alias}")


def keystore_page(client_for, world) -> str:
    response = client_for(world.alice).get(reverse("keystore-home", args=["acme"]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_passed_check_records_when(world) -> None:
    entry, _, _ = store(world.acme, "acme-2026")
    before = timezone.now()
    api.record_proof(entry)
    stored = reloaded(entry)
    assert stored.proven_at is not None and stored.proven_at >= before
    assert stored.proof_checked_at == stored.proven_at
    assert stored.proof_failure == ""
    assert entry.proven_at == stored.proven_at  # the caller's object says the same


@pytest.mark.django_db
def test_a_failure_keeps_the_last_success_and_a_pass_clears_it(world) -> None:
    entry, _, _ = store(world.acme, "acme-2026")
    api.record_proof(entry)
    proven = reloaded(entry).proven_at
    api.record_proof(entry, failure="the private key of 'acme-2026' does not open: altered or moved")
    failed = reloaded(entry)
    assert failed.proven_at == proven
    assert failed.proof_checked_at is not None and proven is not None and failed.proof_checked_at >= proven
    assert failed.proof_failure == "the private key of 'acme-2026' does not open: altered or moved"
    api.record_proof(entry)
    passed = reloaded(entry)
    assert passed.proof_failure == "" and passed.proven_at is not None and passed.proven_at >= failed.proof_checked_at


@pytest.mark.django_db
def test_a_long_or_multiline_reason_is_kept_to_one_short_line(world) -> None:
    entry, _, _ = store(world.acme, "acme-2026")
    api.record_proof(entry, failure="first line\nsecond line " + "x" * 400)
    failure = reloaded(entry).proof_failure
    assert failure.startswith("first line second line xxx")
    assert len(failure) == 300 and failure.endswith("…")


@pytest.mark.django_db
def test_the_page_shows_never_for_a_key_never_checked(world, client_for) -> None:
    store(world.acme, "acme-2026")
    page = keystore_page(client_for, world)
    assert "Last proven" in page
    assert "Never" in row_of(page, "acme-2026")
    assert "Failed" not in row_of(page, "acme-2026")


@pytest.mark.django_db
def test_the_page_shows_when_a_key_was_last_proven(world, client_for) -> None:
    entry, _, _ = store(world.acme, "acme-2026")
    store(world.acme, "acme-2027", 1)
    api.record_proof(entry)
    proven = timezone.now() - timedelta(days=3)
    KeystoreEntry.objects.filter(pk=entry.pk).update(proven_at=proven, proof_checked_at=proven)
    page = keystore_page(client_for, world)
    assert f"{proven:%Y-%m-%d %H:%M} UTC" in row_of(page, "acme-2026")
    assert "Never" not in row_of(page, "acme-2026")
    assert "Never" in row_of(page, "acme-2027")


@pytest.mark.django_db
def test_the_page_shows_the_last_failure_escaped(world, client_for) -> None:
    entry, _, _ = store(world.acme, "acme-2026")
    api.record_proof(entry)
    proven = reloaded(entry).proven_at
    api.record_proof(entry, failure="the key of '<b>acme</b>' does not open:\u202eevil")
    checked = reloaded(entry).proof_checked_at
    assert proven is not None and checked is not None
    page = keystore_page(client_for, world)
    row = row_of(page, "acme-2026")
    assert f"{proven:%Y-%m-%d %H:%M} UTC" in row
    assert f"Failed {checked:%Y-%m-%d %H:%M} UTC: the key of '<b>acme</b>' does not open:\\U202Eevil" in row
    assert "<b>acme</b>" not in page and "\u202e" not in page


@pytest.mark.django_db
def test_the_page_offers_verify_keys_where_the_drill_is_routed(world, client_for) -> None:
    store(world.acme, "acme-2026")
    with override_settings(ROOT_URLCONF=__name__):
        page = keystore_page(client_for, world)
        verify_url = reverse("recordings-verify-keys", args=["acme"])
    form = re.search(rf'<form method="post" action="{re.escape(verify_url)}">(.*?)</form>', page, re.S)
    assert form is not None
    assert 'name="csrfmiddlewaretoken"' in form.group(1)
    assert re.search(r"<button[^>]*>Verify keys</button>", form.group(1))
    assert page.index("Verify keys") < page.index("<table")
