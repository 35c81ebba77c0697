"""Paging through a long audit trail: a broad filter is counted only a few hundred pages ahead, and the last pages of
the whole log show the oldest entries, in order."""

import re

import pytest
from django.urls import reverse

from portal.audit import reading
from portal.audit.log import COMMAND, record
from portal.audit.models import AuditEntry
from portal.web import paging
from tests.conftest import World


def nav_of(html: str) -> str:
    return html.split('<nav class="pagination"')[1].split("</nav>")[0]


def link_texts(html: str) -> list[str]:
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav_of(html))


@pytest.fixture
def sixty(world: World) -> None:
    for i in range(60):
        record(f"bulk-{i:02d}", by=COMMAND, tenant=world.acme)


def test_a_filter_matching_more_than_is_counted_says_so(world: World, client_for, sixty, monkeypatch) -> None:
    monkeypatch.setattr(paging, "PAGES_COUNTED_AHEAD", 1)  # count one page past the one asked for
    client = client_for(world.alice)
    url = reverse("audit-tenant", args=["acme"])
    html = client.get(url).content.decode()
    assert "More than 50 entries" in html
    assert "Page 1 of more than 2" in nav_of(html)
    assert link_texts(html) == ["Next"]  # the last page is not known: no link to it
    html = client.get(url, {"page": "2"}).content.decode()  # counted one page further: every entry
    assert "60 entries" in html and "More than" not in html
    assert "Page 2 of 3" in nav_of(html)
    assert link_texts(html) == ["First", "Previous", "Next", "Last"]
    page = client.get(url, {"page": "3"}).context["page"]
    assert [row["action"] for row in page] == [f"bulk-{i:02d}" for i in range(9, -1, -1)]


def test_a_filter_matching_fewer_is_counted_exactly(world: World, client_for, sixty) -> None:
    client = client_for(world.sam)
    html = client.get(reverse("audit-log"), {"tenant": "acme"}).content.decode()
    assert "60 entries" in html and "Page 1 of 3" in nav_of(html)
    record("bulk-60", by=COMMAND, tenant=world.acme)
    html = client.get(reverse("audit-log"), {"tenant": "acme"}).content.decode()
    assert "61 entries" in html


def test_every_page_of_the_whole_log_has_its_entries_in_order(world: World, client_for, sixty) -> None:
    """The pages past the middle are read from the oldest end: each still shows its own entries, newest first."""
    client = client_for(world.sam)
    client.get(reverse("audit-log"))  # signing in is recorded on the first request: let the log settle first
    newest_first = list(AuditEntry.objects.order_by("-id").values_list("action", flat=True))
    assert len(newest_first) > 60
    shown = []
    for number in range(1, (len(newest_first) - 1) // 25 + 2):
        page = client.get(reverse("audit-log"), {"page": str(number)}).context["page"]
        assert page.number == number
        shown += [row["action"] for row in page]
    assert shown == newest_first


def test_the_whole_log_is_counted_after_each_append(world: World, client_for, sixty) -> None:
    client = client_for(world.sam)
    before = client.get(reverse("audit-log")).context["page"].paginator.count
    record("bulk-60", by=COMMAND, tenant=world.acme)
    after = client.get(reverse("audit-log")).context["page"].paginator.count
    assert after == before + 1 == AuditEntry.objects.count()


@pytest.mark.parametrize("page", ["abc", "0", "-3", "9" * 30, "9" * 5000])
def test_any_page_number_answers_a_page(world: World, client_for, sixty, page) -> None:
    response = client_for(world.alice).get(reverse("audit-tenant", args=["acme"]), {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number in (1, 3)


def every_page(client, url: str) -> list[str]:
    shown = []
    for number in range(1, AuditEntry.objects.count() // 25 + 2):
        page = client.get(url, {"page": str(number)}).context["page"]
        assert page.number == number
        shown += [row["action"] for row in page]
    return shown


def test_deep_pages_stay_in_order_as_the_log_grows(world: World, client_for) -> None:
    """A page read once is found again from where it was, after entries are appended: it still shows its own."""
    client = client_for(world.sam)
    url = reverse("audit-log")
    for i in range(230):
        record(f"bulk-{i:03d}", by=COMMAND, tenant=world.acme)
    client.get(url)
    assert every_page(client, url) == list(AuditEntry.objects.order_by("-id").values_list("action", flat=True))
    for i in range(230, 241):
        record(f"bulk-{i:03d}", by=COMMAND, tenant=world.globex)
    assert every_page(client, url) == list(AuditEntry.objects.order_by("-id").values_list("action", flat=True))


def test_a_landmark_whose_entry_changed_is_dropped(world: World, client_for) -> None:
    """A page is read from a landmark only while its entry is the one kept: otherwise it is read as before."""
    client = client_for(world.sam)
    url = reverse("audit-log")
    for i in range(120):
        record(f"bulk-{i:03d}", by=COMMAND, tenant=world.acme)
    client.get(url)
    newest_first = list(AuditEntry.objects.order_by("-id").values_list("action", flat=True))
    first = AuditEntry.objects.order_by("id").values_list("entry_hash", flat=True)[0]
    elsewhere = AuditEntry.objects.order_by("-id")[70].pk  # not the entry at that place, and not with that hash
    reading._landmarks[("default", first)] = [(len(newest_first) - 75, elsewhere, "0" * 64)]
    page = client.get(url, {"page": "3"}).context["page"]
    assert [row["action"] for row in page] == newest_first[50:75]
