"""The Recording Certificates list and a certificate's details and downloads."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography import x509
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate
from tests.certificates import pki
from tests.factories import add_root, post_upload, save_certificate, seed_files

DAY = timedelta(days=1)


def aliases_in(response) -> list[str]:
    """The aliases of the table's rows, in the order shown."""
    return re.findall(r'<td><a href="/t/[^/]+/certificates/[0-9a-f-]+/">([^<]+)</a></td>', response.content.decode())


def make(tenant, cn: str, *, key_index: int = 0, alias: str | None = None, **validity) -> Certificate:
    cert, key = pki.make_self_signed(pki.make_key(2048, key_index), cn, **validity)
    return save_certificate(tenant, cert, key, alias=alias)


def list_url(slug: str = "acme", **query) -> str:
    url = reverse("certificate-list", args=[slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


# --- The list ---------------------------------------------------------------------------------------------------------


def test_list_columns_and_statuses(world, client_for):
    now = datetime.now(UTC)
    make(world.acme, "Valid One", alias="valid-one")
    make(world.acme, "Soon", alias="soon", not_before=now - timedelta(days=300), not_after=now + timedelta(days=10))
    make(world.acme, "Old", alias="old", not_before=now - timedelta(days=800), not_after=now - timedelta(days=1))
    future = (now + timedelta(days=5)).replace(microsecond=0)
    make(world.acme, "Later", alias="later", not_before=future)
    make(world.globex, "Globex Only", alias="globex-only")
    text = client_for(world.alice).get(list_url()).content.decode()
    for heading in (
        "Alias",
        "Subject Name",
        "Serial Number",
        "Issuer",
        "Valid from",
        "Valid until",
        "Status",
        "Assigned",
    ):
        assert f">{heading}</" in text, heading
    assert '<span class="badge valid">Valid</span>' in text
    assert '<span class="badge expiring">Expiring soon</span>' in text
    assert '<span class="badge expired">Expired — playback only</span>' in text
    assert f"Not yet valid — unusable for recording until {future:%Y-%m-%d %H:%M} UTC" in text
    assert "globex-only" not in text
    assert "4 certificates" in text


def test_upload_button_only_for_tenant_administrators(world, client_for):
    upload = reverse("certificate-upload", args=["acme"])
    assert upload in client_for(world.alice).get(list_url()).content.decode()
    for reader in (world.pat, world.sam):
        response = client_for(reader).get(list_url())
        assert response.status_code == 200
        assert upload not in response.content.decode()


@pytest.mark.parametrize(
    "sort,expected",
    [
        ("alias", ["alpha", "bravo", "charlie"]),
        ("-alias", ["charlie", "bravo", "alpha"]),
        ("subject", ["charlie", "alpha", "bravo"]),  # Aaron, Mike, Zed
        ("valid_until", ["bravo", "charlie", "alpha"]),
        ("-valid_until", ["alpha", "charlie", "bravo"]),
        ("valid_from", ["alpha", "bravo", "charlie"]),
        ("status", ["bravo", "charlie", "alpha"]),  # expired, expiring, valid
        ("serial", ["charlie", "alpha", "bravo"]),  # 9 < 10 < 200: numbers, not text
        ("nonsense", ["alpha", "bravo", "charlie"]),
    ],
)
def test_sort_by_any_column(world, client_for, sort, expected):
    now = datetime.now(UTC)
    for alias, cn, serial, start, end in (
        ("alpha", "Mike", 10, now - timedelta(days=30), now + timedelta(days=900)),
        ("bravo", "Zed", 200, now - timedelta(days=20), now - timedelta(days=1)),
        ("charlie", "Aaron", 9, now - timedelta(days=10), now + timedelta(days=20)),
    ):
        cert, key = pki.make_self_signed(cn=cn, serial=serial, not_before=start, not_after=end)
        save_certificate(world.acme, cert, key, alias=alias)
    assert aliases_in(client_for(world.alice).get(list_url(sort=sort))) == expected


def test_search_over_alias_subject_serial_and_issuer(world, client_for):
    ca, ca_key = pki.make_ca("Contoso Issuing Root")
    add_root(world.acme, ca)
    issued, issued_key = pki.issue(ca, ca_key, "Screen Recording", serial=0xA1B2C3D4E5)
    save_certificate(world.acme, issued, issued_key, alias="screen")
    cert, key = pki.make_self_signed(cn="Voice Recording", serial=123456789)
    save_certificate(world.acme, cert, key, alias="voice-2025")
    client = client_for(world.alice)
    for query, expected in (
        ("voice-20", ["voice-2025"]),
        ("screen rec", ["screen"]),
        ("123456789", ["voice-2025"]),
        ("A1:B2:C3:D4:E5", ["screen"]),
        ("a1b2c3", ["screen"]),
        ("Contoso", ["screen"]),
        ("", ["screen", "voice-2025"]),
    ):
        assert aliases_in(client.get(list_url(), {"q": query})) == expected, query
    nothing = client.get(list_url(), {"q": "no such thing"}).content.decode()
    assert "No certificate matches “no such thing”" in nothing


def test_pagination_25_per_page(world, client_for):
    for number in range(27):
        make(world.acme, f"Recording {number:02d}", alias=f"rec-{number:02d}")
    client = client_for(world.alice)
    first = client.get(list_url())
    assert len(aliases_in(first)) == 25 and "Page 1 of 2" in first.content.decode()
    second = client.get(list_url(), {"page": 2, "sort": "alias"})
    assert aliases_in(second) == ["rec-25", "rec-26"]
    assert len(aliases_in(client.get(list_url(), {"page": "x"}))) == 25
    for past_the_end in ("9", "0", "-1", "99999999999999999999"):  # the last page, as for any number out of range
        shown = client.get(list_url(), {"page": past_the_end})
        assert aliases_in(shown) == ["rec-25", "rec-26"], past_the_end
        assert "Page 2 of 2" in shown.content.decode()
        assert "27 certificates" in shown.content.decode()


def badges_in(response) -> dict[str, str]:
    """Each row's status, by alias."""
    text = response.content.decode()
    return dict(re.findall(r'">([^<]+)</a></td>.*?<span class="badge ([a-z-]+)">', text, re.DOTALL))


def test_statuses_change_with_time_alone(world, client_for):
    """No write tells the list that a certificate has started, entered its expiry window or ended: the clock does."""
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    with time_machine.travel(start, tick=False):
        make(world.acme, "Ending", alias="ending", not_before=start - 100 * DAY, not_after=start + 4 * hour)
        make(world.acme, "Entering", alias="entering", not_before=start - DAY, not_after=start + 30 * DAY + 2.5 * hour)
        make(world.acme, "Starting", alias="starting", not_before=start + hour, not_after=start + 400 * DAY)
    for moment, expected in (
        (start, {"ending": "expiring", "entering": "valid", "starting": "not-yet-valid"}),
        (start + hour / 2, {"ending": "expiring", "entering": "valid", "starting": "not-yet-valid"}),
        (start + 2 * hour, {"ending": "expiring", "entering": "valid", "starting": "valid"}),
        (start + 3 * hour, {"ending": "expiring", "entering": "expiring", "starting": "valid"}),
        (start + 5 * hour, {"ending": "expired", "entering": "expiring", "starting": "valid"}),
    ):
        with time_machine.travel(moment, tick=False):  # signed in then: a session ends when idle
            assert badges_in(client_for(world.alice).get(list_url())) == expected, moment


def test_a_page_kept_by_a_clock_ahead_is_not_shown_by_one_behind(world, client_for):
    """Nodes share the cache, and their clocks differ by a little: a page read at a later moment holds from then."""
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        make(world.acme, "Starting", alias="starting", not_before=start + timedelta(minutes=1), not_after=start + DAY)
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        assert badges_in(client_for(world.alice).get(list_url())) == {"starting": "expiring"}
    with time_machine.travel(start, tick=False):
        assert badges_in(client_for(world.alice).get(list_url())) == {"starting": "not-yet-valid"}


def test_the_order_by_status_follows_certificates_on_other_pages(world, client_for):
    """A certificate on the second page that becomes valid moves up among the first page's, with no write."""
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for number in range(25):
            make(world.acme, f"Valid {number:02d}", alias=f"valid-{number:02d}", not_after=start + 900 * DAY)
        make(world.acme, "Later", alias="later", not_before=start + timedelta(hours=1), not_after=start + 400 * DAY)
    with time_machine.travel(start, tick=False):
        assert "later" not in aliases_in(client_for(world.alice).get(list_url(sort="status")))
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        assert aliases_in(client_for(world.alice).get(list_url(sort="status")))[0] == "later"


def test_query_count_does_not_grow_with_the_page(world, client_for):
    client = client_for(world.alice)
    make(world.acme, "One", alias="one")
    client.get(list_url())  # the first request after sign-in renews the session (a write): count from the second

    def cold_and_warm() -> tuple[int, int]:
        """Queries when the tenant's assignments must be read (as after any change), then when they are reused."""
        cache.clear()
        counts = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as captured:
                client.get(list_url())
            counts.append(len(captured.captured_queries))
        return counts[0], counts[1]

    one = cold_and_warm()
    for number in range(12):
        make(world.acme, f"More {number}", alias=f"more-{number}")
    many = cold_and_warm()
    assert len(aliases_in(client.get(list_url()))) == 13
    assert many == one
    assert one[1] < one[0]


def test_a_change_in_one_session_shows_in_another_on_reload(world, client_for):
    first_session = client_for(world.alice)
    second_session = client_for(world.alice)
    assert aliases_in(first_session.get(list_url())) == []
    cert, key = seed_files()
    assert post_upload(second_session, "acme", cert, key, alias="from-session-two").status_code == 302
    reloaded = first_session.get(list_url())
    assert aliases_in(reloaded) == ["from-session-two"]
    assert "no-cache" in reloaded["Cache-Control"] or "no-store" in reloaded["Cache-Control"]
    # An archived certificate leaves every session's list at once.
    Certificate.objects.update(archived_at=timezone.now())
    assert aliases_in(first_session.get(list_url())) == []


def test_list_requires_a_tenant_in_reach(world, client_for):
    assert client_for(world.charlie).get(list_url()).status_code == 404
    assert client_for(world.bob).get(list_url()).status_code == 404
    assert client_for(world.sam).get(list_url()).status_code == 200


# --- Details ----------------------------------------------------------------------------------------------------------


def test_details_show_everything_about_the_certificate(world, client_for):
    ca, ca_key = pki.make_ca("Acme Root CA")
    add_root(world.acme, ca)
    cert, key = pki.issue(ca, ca_key, "Voice Recording", serial=0x1F2E3D4C5B6A)
    saved = save_certificate(world.acme, cert, key, alias="voice")
    text = client_for(world.alice).get(reverse("certificate-detail", args=["acme", saved.pk])).content.decode()
    assert "CN=Voice Recording,C=US,ST=California,O=Genesys" in text
    assert "CN=Acme Root CA,O=Acme" in text
    assert str(0x1F2E3D4C5B6A) in text and "1F2E3D4C5B6A" in text
    assert saved.sha256_fingerprint in text
    assert "RSA, 2048 bits" in text
    assert "sha256WithRSAEncryption" in text
    assert "Digital Signature, Key Encipherment (critical)" in text  # Key Usage, in words
    assert "CA: false (critical)" in text
    assert "Trusted: Issued by trusted root CA &#x27;Acme Root CA&#x27;." in text


def test_details_recheck_the_chain_against_current_root_cas(world, client_for):
    ca, ca_key = pki.make_ca("Acme Root CA")
    root = add_root(world.acme, ca)
    cert, key = pki.issue(ca, ca_key)
    saved = save_certificate(world.acme, cert, key)
    root.delete()
    text = client_for(world.alice).get(reverse("certificate-detail", args=["acme", saved.pk])).content.decode()
    assert (
        "Not trusted: Issuer &#x27;CN=Acme Root CA,O=Acme&#x27; is not one of this tenant&#x27;s trusted root CAs."
        in text
    )


def test_key_details_hidden_from_professionals(world, client_for):
    saved = make(world.acme, "Genesys Recording", alias="voice")
    url = reverse("certificate-detail", args=["acme", saved.pk])
    for user, shown in ((world.alice, True), (world.sam, True), (world.pat, False)):
        text = client_for(user).get(url).content.decode()
        assert ("Private key</h2>" in text) is shown, user
        assert ("Keystore alias" in text) is shown, user


def test_download_pem_and_der(world, client_for):
    cert, key = pki.make_self_signed()
    saved = save_certificate(world.acme, cert, key, alias="Voice 2025")
    url = reverse("certificate-download", args=["acme", saved.pk])
    client = client_for(world.pat)  # public data: every reader may download it
    as_pem = client.get(url)
    assert as_pem["Content-Disposition"] == 'attachment; filename="voice-2025.pem"'
    assert x509.load_pem_x509_certificate(as_pem.content) == cert
    as_der = client.get(url, {"format": "der"})
    assert as_der["Content-Disposition"] == 'attachment; filename="voice-2025.der"'
    assert as_der.content == pki.der(cert)
    assert client.get(url, {"format": "p12"}).status_code == 400


def test_details_and_download_check_ownership(world, client_for):
    foreign = make(world.globex, "Globex", alias="globex")
    client = client_for(world.alice)
    assert client.get(reverse("certificate-detail", args=["acme", foreign.pk])).status_code == 404
    assert client.get(reverse("certificate-download", args=["acme", foreign.pk])).status_code == 404
    assert client.get(reverse("certificate-detail", args=["globex", foreign.pk])).status_code == 404


def test_archived_certificates_are_not_shown(world, client_for):
    saved = make(world.acme, "Old", alias="old")
    Certificate.objects.filter(pk=saved.pk).update(archived_at=timezone.now(), archived_by=world.alice)
    client = client_for(world.alice)
    assert aliases_in(client.get(list_url())) == []
    assert client.get(reverse("certificate-detail", args=["acme", saved.pk])).status_code == 404


@pytest.mark.parametrize("name", ["certificate-list", "certificate-detail", "certificate-download"])
def test_read_only_views_reject_post(world, client_for, name):
    saved = make(world.acme, "Genesys Recording")
    args = ["acme"] if name == "certificate-list" else ["acme", saved.pk]
    assert client_for(world.alice).post(reverse(name, args=args)).status_code == 405
