import csv
import io
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from portal.audit.log import COMMAND, Actor, record
from portal.audit.models import AuditEntry
from tests.conftest import PASSWORD, World


@pytest.fixture
def entries(world: World) -> None:
    """Entries over three days in both tenants, and one tied to no tenant."""
    with time_machine.travel(datetime(2027, 1, 10, 8, 0, tzinfo=UTC), tick=False):
        record("certificate-uploaded", by=Actor(world.alice), tenant=world.acme, details={"alias": "rec-1"})
        record("certificate-uploaded", by=Actor(world.bob), tenant=world.globex, details={"alias": "gx-1"})
    with time_machine.travel(datetime(2027, 1, 11, 23, 59, 59, tzinfo=UTC), tick=False):
        record("ivr-assigned", by=Actor(world.pat), tenant=world.acme, details={"profile": "record"})
        record("sign-in", by=Actor(world.sam))
    with time_machine.travel(datetime(2027, 1, 12, 0, 0, tzinfo=UTC), tick=False):
        record("certificate-archived", by=Actor(world.alice), tenant=world.acme, details={"alias": "rec-1"})


def actions(response) -> list[tuple[str, str, str]]:
    return [(e["action"], e["actor_username"], e["tenant_slug"]) for e in response.context["page"]]


def created_by_test(response) -> list[tuple[str, str, str]]:
    """The rows the fixture made, in 2027 (signing the test client in records a sign-in of today)."""
    page = response.context["page"]
    return [(e["action"], e["actor_username"], e["tenant_slug"]) for e in page if e["created"].year == 2027]


def test_support_sees_every_tenant_newest_first(world: World, client_for, entries) -> None:
    response = client_for(world.sam).get(reverse("audit-log"))
    assert response.status_code == 200
    assert created_by_test(response) == [
        ("certificate-archived", "alice", "acme"),
        ("sign-in", "sam", ""),
        ("ivr-assigned", "pat", "acme"),
        ("certificate-uploaded", "bob", "globex"),
        ("certificate-uploaded", "alice", "acme"),
    ]
    assert "profile: record" in response.content.decode()


def row_of(html: str, action: str) -> str:
    """The table row of the only entry with this action, its cells' whitespace collapsed."""
    rows = [row for row in html.split("<tr>") if f"<td>{action}</td>" in row]
    assert len(rows) == 1
    return re.sub(r">\s+<", "><", rows[0].split("</tr>")[0].strip())


def test_rows_read_as_before(world: World, client_for) -> None:
    """What each cell shows: time in UTC (the attribute with its fraction of a second), dashes for no user, no
    tenant or no object, the details in words, the address or nothing."""
    with time_machine.travel(datetime(2027, 1, 10, 8, 0, 5, 123456, tzinfo=UTC), tick=False):
        record("ivr-assigned", by=Actor(world.alice), tenant=world.acme, obj=world.acme, details={"profile": "<b>"})
    with time_machine.travel(datetime(2027, 1, 11, 9, 30, tzinfo=UTC), tick=False):
        record("note-system", by=COMMAND, details={"n": [1, "a"]})
    sam = client_for(world.sam).get(reverse("audit-log")).content.decode()
    assert row_of(sam, "ivr-assigned") == (
        '<td><time datetime="2027-01-10T08:00:05.123456+00:00">2027-01-10 08:00:05</time></td>'
        "<td>alice</td><td>acme</td><td>ivr-assigned</td>"
        f"<td>tenant: {world.acme}</td>"
        '<td class="details-text">profile: &lt;b&gt;</td><td></td>'
    )
    assert row_of(sam, "note-system") == (
        '<td><time datetime="2027-01-11T09:30:00+00:00">2027-01-11 09:30:00</time></td>'
        "<td>—</td><td>—</td><td>note-system</td>"
        '<td><span class="muted">—</span></td>'
        '<td class="details-text">n: [1, &quot;a&quot;]</td><td></td>'
    )
    alice = client_for(world.alice).get(reverse("audit-tenant", args=["acme"])).content.decode()
    assert "<td>alice</td><td>ivr-assigned</td>" in row_of(alice, "ivr-assigned")  # no tenant column


def test_every_cell_is_escaped(world: World, client_for) -> None:
    evil = '<b class="x">&\'</b>'
    world.acme.name = f"Acme {evil}"
    with time_machine.travel(datetime(2027, 1, 10, 8, 0, tzinfo=UTC), tick=False):
        record(f"note-{evil}", by=Actor(world.alice), tenant=world.acme, obj=world.acme, details={evil: evil})
    html = client_for(world.sam).get(reverse("audit-log")).content.decode()
    escaped = "&lt;b class=&quot;x&quot;&gt;&amp;&#x27;&lt;/b&gt;"
    assert row_of(html, f"note-{escaped}") == (
        '<td><time datetime="2027-01-10T08:00:00+00:00">2027-01-10 08:00:00</time></td>'
        f"<td>alice</td><td>acme</td><td>note-{escaped}</td><td>tenant: Acme {escaped}</td>"
        f'<td class="details-text">{escaped}: {escaped}</td><td></td>'
    )
    assert evil not in html


def test_a_sign_in_shows_its_address(world: World, client) -> None:
    client.post(reverse("login"), {"username": "sam", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7")
    html = client.get(reverse("audit-log")).content.decode()
    assert row_of(html, "sign-in").endswith("<td>192.0.2.7</td>")


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"tenant": "globex"}, [("certificate-uploaded", "bob", "globex")]),
        ({"tenant": "-"}, [("sign-in", "sam", "")]),
        ({"user": "alice"}, [("certificate-archived", "alice", "acme"), ("certificate-uploaded", "alice", "acme")]),
        (
            {"action": "certificate-uploaded"},
            [("certificate-uploaded", "bob", "globex"), ("certificate-uploaded", "alice", "acme")],
        ),
        (
            {"date_from": "2027-01-11", "date_to": "2027-01-11"},
            [("sign-in", "sam", ""), ("ivr-assigned", "pat", "acme")],
        ),
        ({"date_from": "2027-01-12"}, [("certificate-archived", "alice", "acme")]),
        ({"tenant": "acme", "user": "alice", "date_to": "2027-01-10"}, [("certificate-uploaded", "alice", "acme")]),
    ],
)
def test_filters(world: World, client_for, entries, query, expected) -> None:
    response = client_for(world.sam).get(reverse("audit-log"), query)
    assert created_by_test(response) == expected


def test_the_action_filter_suggests_the_actions_present(world: World, client_for, entries) -> None:
    html = client_for(world.sam).get(reverse("audit-log")).content.decode()
    suggested = re.findall(
        r'<option value="([^"]+)">', html.split('<datalist id="audit-actions">')[1].split("</datalist>")[0]
    )
    assert suggested == sorted(set(AuditEntry.objects.values_list("action", flat=True)))
    assert {"certificate-archived", "certificate-uploaded", "ivr-assigned", "sign-in"} <= set(suggested)
    html = client_for(world.bob).get(reverse("audit-tenant", args=["globex"])).content.decode()
    assert '<datalist id="audit-actions"><option value="certificate-uploaded"></datalist>' in html


def test_the_whole_log_is_counted_from_its_head(world: World, client_for, entries) -> None:
    response = client_for(world.sam).get(reverse("audit-log"))
    assert response.context["page"].paginator.count == AuditEntry.objects.count()


def test_a_tenant_administrator_sees_only_their_tenant(world: World, client_for, entries) -> None:
    response = client_for(world.alice).get(reverse("audit-tenant", args=["acme"]))
    assert response.status_code == 200
    assert created_by_test(response) == [
        ("certificate-archived", "alice", "acme"),
        ("ivr-assigned", "pat", "acme"),
        ("certificate-uploaded", "alice", "acme"),
    ]
    assert all(e["tenant_slug"] == "acme" for e in response.context["page"])
    assert 'name="tenant"' not in response.content.decode()  # no tenant filter on a tenant's own page


def test_bad_filters_are_explained_where_they_are(world: World, client_for, entries) -> None:
    client = client_for(world.sam)
    html = client.get(reverse("audit-log"), {"date_from": "2027-01-12", "date_to": "2027-01-10"}).content.decode()
    assert "The end date is before the start date." in html
    response = client.get(reverse("audit-log"), {"date_from": "yesterday", "tenant": "initech"})
    html = response.content.decode()
    assert response.status_code == 200 and "Enter a valid date." in html and "Select a valid choice" in html


def test_pages_of_25_or_50(world: World, client_for) -> None:
    for i in range(60):
        record(f"bulk-{i:02d}", by=COMMAND, tenant=world.acme)
    client = client_for(world.alice)
    url = reverse("audit-tenant", args=["acme"])
    first = client.get(url, {"action": "bulk-59"})
    assert len(first.context["page"]) == 1
    page = client.get(url).context["page"]
    assert len(page) == 25 and page.paginator.num_pages == 3
    page = client.get(url, {"per_page": "50", "page": "2"}).context["page"]
    assert page.number == 2 and len(page) == 10
    assert page[0]["action"] == "bulk-09"
    assert client.get(url, {"per_page": "1000"}).context["page"].paginator.per_page == 25
    assert client.get(url, {"page": "9999"}).context["page"].number == 3  # past the end: the last page


def paging_and_download_links(html: str) -> list[str]:
    nav = html.split('<nav class="pagination"')[1].split("</nav>")[0] if 'class="pagination"' in html else ""
    download = re.search(r'<a class="button" href="([^"]*)" download>', html)
    assert download
    return [download.group(1), *re.findall(r'<a href="([^"]*)"', nav)]


def test_paging_and_download_links_keep_the_filters(world: World, client_for) -> None:
    """Each link is the page's own query with another page number, where it was (or at the end); the download
    link drops the page number."""
    for i in range(60):
        record(f"bulk-{i:02d}", by=Actor(world.alice), tenant=world.acme)
    client = client_for(world.alice)
    url = reverse("audit-tenant", args=["acme"])
    csv_url = reverse("audit-tenant-csv", args=["acme"])
    html = client.get(f"{url}?page=2&user=alice&date_from=").content.decode()
    assert paging_and_download_links(html) == [
        f"{csv_url}?user=alice&amp;date_from=",
        "?page=1&amp;user=alice&amp;date_from=",  # first
        "?page=1&amp;user=alice&amp;date_from=",  # previous
        "?page=3&amp;user=alice&amp;date_from=",  # next
        "?page=3&amp;user=alice&amp;date_from=",  # last
    ]
    html = client.get(f"{url}?user=alice&action=&page=3&page=1").content.decode()  # the last page value counts
    assert paging_and_download_links(html) == [
        f"{csv_url}?user=alice&amp;action=",
        "?user=alice&amp;action=&amp;page=2",  # next
        "?user=alice&amp;action=&amp;page=3",  # last
    ]
    html = client.get(url, {"user": "alice"}).content.decode()
    assert paging_and_download_links(html) == [
        f"{csv_url}?user=alice",
        "?user=alice&amp;page=2",
        "?user=alice&amp;page=3",
    ]
    assert paging_and_download_links(client.get(url).content.decode())[0] == csv_url
    assert paging_and_download_links(client.get(url, {"page": "2"}).content.decode())[0] == f"{csv_url}?"
    html = client.get(url, {"user": "nobody"}).content.decode()
    assert paging_and_download_links(html) == [f"{csv_url}?user=nobody"]  # one page or none: no paging links


def test_csv_export_has_the_filtered_entries(world: World, client_for, entries) -> None:
    response = client_for(world.sam).get(reverse("audit-log-csv"), {"action": "certificate-uploaded"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-all-tenants-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["User"], r["Tenant"], r["Details"]) for r in rows] == [
        ("bob", "globex", '{"alias": "gx-1"}'),
        ("alice", "acme", '{"alias": "rec-1"}'),
    ]
    assert rows[0]["Time (UTC)"] == "2027-01-10T08:00:00+00:00"


def test_tenant_csv_export_stays_in_the_tenant(world: World, client_for, entries) -> None:
    response = client_for(world.alice).get(reverse("audit-tenant-csv", args=["acme"]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and {r["Tenant"] for r in rows} == {"acme"}
    assert AuditEntry.objects.filter(tenant=world.acme).count() == len(rows)


def test_csv_export_refuses_bad_filters(world: World, client_for) -> None:
    response = client_for(world.sam).get(reverse("audit-log-csv"), {"date_to": "soon"})
    assert response.status_code == 400 and "To: Enter a valid date." in response.content.decode()


def test_csv_cells_cannot_run_as_formulas(world: World, client_for) -> None:
    record("note", by=COMMAND, tenant=world.acme, details={"alias": "=1+2"})
    record("@SUM(A1)", by=COMMAND, tenant=world.acme)
    response = client_for(world.alice).get(reverse("audit-tenant-csv", args=["acme"]), {"user": ""})
    body = b"".join(response.streaming_content).decode()
    rows = {r["Action"]: r for r in csv.DictReader(io.StringIO(body))}
    assert "'@SUM(A1)" in rows and rows["note"]["Details"] == '{"alias": "=1+2"}'  # starts with "{": inert


def test_cross_tenant_pages_require_support(world: World, client_for) -> None:
    for user in (world.alice, world.bob, world.pat, world.charlie):
        client = client_for(user)
        assert client.get(reverse("audit-log")).status_code == 403
        assert client.get(reverse("audit-log-csv")).status_code == 403


@pytest.mark.parametrize(
    "who,tenant,status",
    [
        ("alice", "acme", 200),
        ("bob", "globex", 200),
        ("sam", "globex", 200),
        ("alice", "globex", 404),
        ("charlie", "acme", 404),
        ("pat", "acme", 403),  # a professional does not read the audit trail
    ],
)
def test_tenant_pages_check_ownership_and_role(world: World, client_for, who, tenant, status) -> None:
    client = client_for(getattr(world, who))
    assert client.get(reverse("audit-tenant", args=[tenant])).status_code == status
    assert client.get(reverse("audit-tenant-csv", args=[tenant])).status_code == status


def test_pages_reject_post(world: World, client_for) -> None:
    sam, alice = client_for(world.sam), client_for(world.alice)
    before = AuditEntry.objects.count()
    assert sam.post(reverse("audit-log")).status_code == 405
    assert sam.post(reverse("audit-log-csv")).status_code == 405
    assert alice.post(reverse("audit-tenant", args=["acme"])).status_code == 405
    assert alice.post(reverse("audit-tenant-csv", args=["acme"])).status_code == 405
    assert AuditEntry.objects.count() == before


def suggested_actions(html: str) -> list[str]:
    return re.findall(
        r'<option value="([^"]+)">', html.split('<datalist id="audit-actions">')[1].split("</datalist>")[0]
    )


def test_the_suggested_actions_follow_each_append(world: World, client_for) -> None:
    alice, sam = client_for(world.alice), client_for(world.sam)
    acme = reverse("audit-tenant", args=["acme"])
    record("note-first", by=COMMAND, tenant=world.acme)
    assert "note-first" in suggested_actions(alice.get(acme).content.decode())
    record("note-elsewhere", by=COMMAND, tenant=world.globex)
    assert "note-elsewhere" not in suggested_actions(alice.get(acme).content.decode())
    assert "note-elsewhere" in suggested_actions(sam.get(reverse("audit-log")).content.decode())
    record("note-later", by=COMMAND, tenant=world.acme)
    assert {"note-first", "note-later"} <= set(suggested_actions(alice.get(acme).content.decode()))
