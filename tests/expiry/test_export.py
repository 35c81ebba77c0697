"""The expiry dashboards' CSV export."""

import csv
import io

from django.urls import reverse

from tests.conftest import World
from tests.factories import make_certificate


def test_csv_export_follows_the_filters(world: World, client_for, fleet) -> None:
    response = client_for(world.alice).get(reverse("expiry-tenant-csv", args=["acme"]), {"status": "expired"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="expiry-acme-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["Alias"] for r in rows] == ["gone-assigned", "gone"]
    assert rows[0]["Tenant"] == "acme"
    assert rows[0]["Days left"] == "-40"
    assert rows[0]["Status"] == "Expired — playback only"
    assert rows[0]["Assigned"].startswith("IVR profile 'record'")
    assert rows[0]["Not valid after (UTC)"] == "2027-02-03T12:00:00+00:00"


def test_csv_export_across_tenants_follows_the_tenant_filter(world: World, client_for, fleet) -> None:
    client = client_for(world.sam)
    everything = client.get(reverse("expiry-dashboard-csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(everything.streaming_content).decode())))
    assert {r["Tenant"] for r in rows} == {"acme", "globex"} and len(rows) == 9
    globex = client.get(reverse("expiry-dashboard-csv"), {"tenant": "globex", "sort": "-expiry"})
    rows = list(csv.DictReader(io.StringIO(b"".join(globex.streaming_content).decode())))
    assert [r["Alias"] for r in rows] == ["globex-soon", "globex-gone"]


def test_csv_export_refuses_bad_filters(world: World, client_for, fleet) -> None:
    response = client_for(world.sam).get(reverse("expiry-dashboard-csv"), {"tenant": "initech"})
    assert response.status_code == 400
    assert "Tenant" in response.content.decode()


def test_csv_cells_cannot_run_as_formulas(world: World, client_for, frozen) -> None:
    make_certificate(world.acme, "formula", cn='=HYPERLINK("http://example.com","x")', days=5)
    response = client_for(world.alice).get(reverse("expiry-tenant-csv", args=["acme"]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["Subject Name"] == '\'=HYPERLINK("http://example.com","x")'
    assert rows[0]["Days left"] == "5"
