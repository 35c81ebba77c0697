"""The expiry dashboards: counts, the list, its filters and links."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from keystore.models import KeystoreEntry
from tests.conftest import World
from tests.expiry.pages import NOW, aliases, tile_counts
from tests.factories import assign_to_ivr, assign_to_screen_recording, make_certificate


def test_counts_every_status_and_window_for_the_tenant(world: World, client_for, fleet) -> None:
    response = client_for(world.alice).get(reverse("expiry-tenant", args=["acme"]))
    assert response.status_code == 200
    assert tile_counts(response) == {
        "urgent": 1,
        "expired": 2,
        "within-30": 1,
        "within-60": 2,
        "within-90": 3,
        "not-yet-valid": 1,
        "valid": 4,
    }
    assert response.context["counts"].total == 7  # the archived one is left out
    assert "archived" not in aliases(response)
    assert "globex-gone" not in aliases(response)


def test_lists_soonest_expiry_first_and_can_reverse(world: World, client_for, fleet) -> None:
    client = client_for(world.alice)
    url = reverse("expiry-tenant", args=["acme"])
    assert aliases(client.get(url)) == ["gone-assigned", "gone", "soon", "month2", "month3", "later", "future"]
    assert aliases(client.get(url, {"sort": "-expiry"})) == [
        "future",
        "later",
        "month3",
        "month2",
        "soon",
        "gone",
        "gone-assigned",
    ]


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"status": "expired"}, ["gone-assigned", "gone"]),
        ({"status": "urgent"}, ["gone-assigned"]),
        ({"status": "within-30"}, ["soon"]),
        ({"status": "within-60"}, ["soon", "month2"]),
        ({"status": "within-90"}, ["soon", "month2", "month3"]),
        ({"status": "not-yet-valid"}, ["future"]),
        ({"status": "valid"}, ["soon", "month2", "month3", "later"]),
        ({"assigned": "yes"}, ["gone-assigned", "soon"]),
        ({"assigned": "no"}, ["gone", "month2", "month3", "later", "future"]),
        ({"assigned": "no", "status": "expired"}, ["gone"]),
        ({"month": "2027-06"}, ["month3"]),
    ],
)
def test_filters(world: World, client_for, fleet, query, expected) -> None:
    response = client_for(world.alice).get(reverse("expiry-tenant", args=["acme"]), query)
    assert aliases(response) == expected
    assert response.context["page"].paginator.count == len(expected)  # counted from the grouped overview


def test_expired_certificates_still_assigned_stand_out(world: World, client_for, fleet) -> None:
    response = client_for(world.alice).get(reverse("expiry-tenant", args=["acme"]))
    html = response.content.decode()
    assert "1 expired certificate still assigned" in html
    row = re.search(r'<tr class="urgent">(.*?)</tr>', html, re.S)
    assert row and "gone-assigned" in row.group(1) and "IVR profile &#x27;record&#x27;" in row.group(1)
    assert html.count('<tr class="urgent">') == 1  # "gone" is expired but unassigned; "soon" assigned but valid


def test_assignment_labels_show_where_each_certificate_is_used(world: World, client_for, fleet) -> None:
    response = client_for(world.alice).get(reverse("expiry-tenant", args=["acme"]))
    labels = {row["alias"]: row["assigned"] for row in response.context["rows"]}
    assert labels["soon"] == ["Screen recording"]
    assert labels["gone-assigned"][0].startswith("IVR profile 'record'")
    assert labels["later"] == []


def test_assignment_labels_are_right_on_each_list_of_a_tenant(world: World, client_for, fleet) -> None:
    """Where certificates are assigned is looked up for the rows a list shows: a list showing other rows of the
    tenant later, or the same rows after an assignment changed, shows theirs."""
    client = client_for(world.alice)
    url = reverse("expiry-tenant", args=["acme"])

    def labels(query: dict) -> dict[str, list[str]]:
        return {row["alias"]: row["assigned"] for row in client.get(url, query).context["rows"]}

    assert labels({"status": "within-30"}) == {"soon": ["Screen recording"]}
    everything = labels({})
    assert everything["soon"] == ["Screen recording"] and everything["later"] == []
    assert everything["gone-assigned"][0].startswith("IVR profile 'record'")
    assign_to_ivr(fleet["later"], "backup", dbid=102)
    assert labels({"status": "within-30"}) == {"soon": ["Screen recording"]}
    assert labels({})["later"][0].startswith("IVR profile 'backup'")


def test_an_assignment_shows_on_the_all_tenant_list_at_once(world: World, client_for, fleet) -> None:
    client = client_for(world.sam)

    def labels() -> dict[str, list[str]]:
        return {row["alias"]: row["assigned"] for row in client.get(reverse("expiry-dashboard")).context["rows"]}

    assert labels()["globex-soon"] == []
    assign_to_ivr(fleet["globex-soon"])
    assert labels()["globex-soon"][0].startswith("IVR profile 'record'")


def test_support_sees_every_tenant_and_filters_by_tenant(world: World, client_for, fleet) -> None:
    client = client_for(world.sam)
    everything = client.get(reverse("expiry-dashboard"))
    assert everything.status_code == 200
    assert {"gone", "globex-gone", "globex-soon"} <= set(aliases(everything))
    assert tile_counts(everything)["expired"] == 3
    globex = client.get(reverse("expiry-dashboard"), {"tenant": "globex"})
    assert aliases(globex) == ["globex-gone", "globex-soon"]
    assert tile_counts(globex)["expired"] == 1
    options = re.findall(r'<option value="([^"]*)"', globex.content.decode())
    assert {"acme", "globex"} <= set(options)


def test_an_unknown_tenant_in_the_filter_is_refused_with_a_message(world: World, client_for, fleet) -> None:
    response = client_for(world.sam).get(reverse("expiry-dashboard"), {"tenant": "initech", "status": "expired"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert set(aliases(response)) == {"gone", "gone-assigned", "globex-gone"}  # the valid filter still applies


def test_a_bad_month_is_refused_with_a_message(world: World, client_for, fleet) -> None:
    response = client_for(world.alice).get(reverse("expiry-tenant", args=["acme"]), {"month": "2027-13"})
    assert response.status_code == 200
    assert "Give the month as YYYY-MM." in response.content.decode()
    assert len(aliases(response)) == 7


def test_links_keep_the_other_filters(world: World, client_for, fleet) -> None:
    """Each status tile, the sort link, the CSV download and "All months" change one filter and keep the others;
    all start again from the first page."""
    url = reverse("expiry-tenant", args=["acme"])
    query = "assigned=no&month=2027-06&sort=-expiry&page=1&x=%3C%22"
    html = client_for(world.alice).get(f"{url}?{query}").content.decode()

    def href(text: str) -> str:
        link = r'<a (?:class="[^"]*" )?href="([^"]*)"[^>]*>\s*(?:<span class="count">\d+</span> )?'
        found = re.search(link + text, html)
        assert found, text
        return found.group(1).replace("&amp;", "&")

    assert href('<span class="label">Expired</span>') == "?assigned=no&sort=-expiry&x=%3C%22&status=expired"
    assert href('<span class="label">All active') == "?assigned=no&sort=-expiry&x=%3C%22"
    assert href("Valid until") == "?assigned=no&month=2027-06&sort=expiry&x=%3C%22"
    assert href("All months") == "?assigned=no&sort=-expiry&x=%3C%22"
    csv_url = reverse("expiry-tenant-csv", args=["acme"])
    assert href("Download CSV") == f"{csv_url}?assigned=no&month=2027-06&sort=-expiry&x=%3C%22"
    assert 'x=%3C%22&amp;status=expired" aria-current' not in html  # the current tile is the one listed
    current = client_for(world.alice).get(url, {"status": "expired"}).content.decode()
    assert '<a href="?status=expired" aria-current="true">' in current
    assert '<li class="tile all"><a href="?">' in current


def test_pages_link_to_their_neighbours(world: World, client_for, frozen) -> None:
    for number in range(27):
        make_certificate(world.acme, f"rec-{number:02d}", not_after=NOW + timedelta(days=number + 1))
    url = reverse("expiry-tenant", args=["acme"])
    client = client_for(world.alice)
    first = client.get(url, {"sort": "-expiry"}).content.decode()
    assert '<a href="?sort=-expiry&amp;page=2" rel="next">Next</a>' in first and 'rel="prev"' not in first
    second = client.get(url, {"page": "2", "sort": "-expiry"}).content.decode()
    assert '<a href="?page=1&amp;sort=-expiry" rel="prev">Previous</a>' in second and 'rel="next"' not in second
    assert "Page 2 of 2" in second


def test_a_certificate_used_in_several_places_counts_once(world: World, client_for, frozen) -> None:
    cert = make_certificate(world.acme, "everywhere", not_after=NOW - timedelta(days=2))
    assign_to_ivr(cert, "record", 101)
    assign_to_ivr(cert, "record-eu", 102)
    assign_to_screen_recording(cert)
    client = client_for(world.alice)
    response = client.get(reverse("expiry-tenant", args=["acme"]), {"assigned": "yes"})
    assert aliases(response) == ["everywhere"]
    assert response.context["counts"].urgent == 1 and response.context["counts"].total == 1
    assert len(response.context["rows"][0]["assigned"]) == 3
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(client.get(reverse("expiry-tenant-csv", args=["acme"])).streaming_content).decode())
        )
    )
    assert len(rows) == 1


def test_every_cell_of_the_list_is_escaped(world: World, client_for, frozen) -> None:
    evil = '<b class="x">&\'</b>'
    escaped = "&lt;b class=&quot;x&quot;&gt;&amp;&#x27;&lt;/b&gt;"
    cert = make_certificate(world.acme, "alias-x", cn=f"CN {evil}", not_after=NOW - timedelta(days=2))
    # The keystore's alias rule refuses such text; an entry stored before the rule may still hold it.
    KeystoreEntry.objects.filter(pk=cert.entry_id).update(alias=f"alias-{evil}")
    assign_to_ivr(cert, profile_name=f"profile-{evil}", dbid=7)
    html = client_for(world.sam).get(reverse("expiry-dashboard")).content.decode()
    urgent = re.search(r'<tr class="urgent">(.*?)</tr>', html, re.S)
    assert urgent, "the certificate is not listed as urgent"
    row = urgent.group(1)
    detail = reverse("certificate-detail", args=["acme", cert.pk])
    assert row == (
        f'<td><a href="{reverse("expiry-tenant", args=["acme"])}">acme</a></td>'
        f'<td class="alias"><a href="{detail}">alias-{escaped}</a></td><td>CN {escaped}</td>'
        f"<td>{cert.serial_number}</td>"
        f'<td><time datetime="{cert.not_valid_after.isoformat()}">{cert.not_valid_after:%Y-%m-%d %H:%M}</time></td>'
        "<td>expired 2 days ago</td>"
        '<td><span class="badge expired">Expired — playback only</span> '
        '<strong class="urgent-flag">Still assigned</strong></td>'
        f"<td>IVR profile &#x27;profile-{escaped}&#x27; (DBID 7)</td>"
    )
    assert evil not in html


def renew_links(response) -> dict[str, str]:
    """Alias -> the Renew link of its row."""
    html = response.content.decode()
    return dict(
        (alias, url) for url, alias in re.findall(r'<a href="([^"]+)" aria-label="Renew ([^"]+)">Renew</a>', html)
    )


def test_certificates_inside_an_expiry_window_link_to_renew(world: World, client_for, fleet) -> None:
    response = client_for(world.alice).get(reverse("expiry-tenant", args=["acme"]))
    # Within the widest window (90 days); not the expired, the later or the not yet valid ones.
    assert renew_links(response) == {
        alias: reverse("certificate-renew", args=["acme", fleet[alias].pk]) for alias in ("soon", "month2", "month3")
    }
    assert '<span class="visually-hidden">Renew</span></th>' in response.content.decode()


def test_only_those_who_may_renew_see_the_link(world: World, client_for, fleet) -> None:
    for reader in (world.pat, world.sam):
        response = client_for(reader).get(reverse("expiry-tenant", args=["acme"]))
        assert response.status_code == 200 and renew_links(response) == {}
        assert 'visually-hidden">Renew' not in response.content.decode()
    # Support's all-tenants view: no link either.
    everything = client_for(world.sam).get(reverse("expiry-dashboard"))
    assert "soon" in aliases(everything) and renew_links(everything) == {}
