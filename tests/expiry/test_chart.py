"""The expiry chart: the next 24 months, drawn as SVG, each bar a link to its month."""

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from django.urls import reverse

from certificates.models import Certificate
from expiry.overview import overview
from tests.conftest import World
from tests.expiry.pages import NOW
from tests.factories import make_certificate


def test_histogram_counts_the_next_24_months(world: World, fleet) -> None:
    buckets = overview(Certificate.objects.active().filter(tenant=world.acme), NOW).histogram()
    assert len(buckets) == 24
    assert buckets[0][0].isoformat() == "2027-03-01" and buckets[-1][0].isoformat() == "2029-02-01"
    counts = {month.isoformat()[:7]: n for month, n in buckets if n}
    # soon: 25 Mar; month2: 29 Apr; month3: 3 Jun; later: 18 Apr 2028; future (not yet valid): 27 Jul 2028.
    assert counts == {"2027-03": 1, "2027-04": 1, "2027-06": 1, "2028-04": 1, "2028-07": 1}


def test_histogram_edges_belong_to_their_month(world: World, frozen) -> None:
    make_certificate(world.acme, "first-instant", not_after=datetime(2027, 4, 1, tzinfo=UTC))
    make_certificate(world.acme, "last-second", not_after=datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC))
    make_certificate(world.acme, "beyond", not_after=datetime(2029, 3, 1, tzinfo=UTC))
    buckets = dict(overview(Certificate.objects.all(), NOW).histogram())
    assert [buckets[m] for m in sorted(buckets)][:2] == [1, 1]
    assert sum(buckets.values()) == 2  # March 2029 is the 25th month


def test_chart_is_inline_svg_without_inline_style_or_script(world: World, client_for, fleet) -> None:
    html = client_for(world.alice).get(reverse("expiry-tenant", args=["acme"])).content.decode()
    chart = re.search(r"<svg .*?</svg>", html, re.S)
    assert chart, "the page has no chart"
    svg = chart.group(0)
    assert svg.count('<rect class="bar"') == 5
    assert "<title>March 2027: 1 certificate</title>" in svg
    assert "?month=2027-06" in svg  # a bar leads to its month's certificates
    assert "style=" not in html and "<script>" not in html and "onclick" not in html


SVG = "{http://www.w3.org/2000/svg}"


def chart_of(html: str) -> ElementTree.Element:
    """The page's chart as XML: parsing fails unless it is well formed."""
    found = re.search(r"<svg .*?</svg>", html, re.S)
    assert found, "the page has no chart"
    return ElementTree.fromstring(found.group(0))


def bar_counts(chart: ElementTree.Element) -> dict[str, str]:
    """Each bar's tooltip ("April 2027: 1 certificate") by its month."""
    tooltips = [title.text or "" for title in chart.iter(f"{SVG}title")][1:]  # the first is the chart's own
    return {tooltip.split(":")[0]: tooltip.split(": ")[1] for tooltip in tooltips}


def test_the_chart_is_well_formed_svg_and_escapes_the_tenant_name(world: World, client_for, fleet) -> None:
    hostile = """Acme "CC" <script>alert('x')</script> & co"""
    world.acme.name = hostile
    world.acme.save()
    html = client_for(world.alice).get(reverse("expiry-tenant", args=["acme"])).content.decode()
    chart = chart_of(html)
    title = chart.find(f"{SVG}title")
    assert title is not None and title.text == f"Certificates expiring per month in {hostile}"
    assert "<script>alert" not in html
    assert "Acme &quot;CC&quot; &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in html


def test_each_bar_lists_its_month_with_the_other_filters(world: World, client_for, fleet) -> None:
    client = client_for(world.alice)
    url = reverse("expiry-tenant", args=["acme"])
    query = {"assigned": "no", "sort": "-expiry", "page": "1", "month": "2027-04", "junk": "<b>"}
    bars = chart_of(client.get(url, query).content.decode()).findall(f"{SVG}a")
    assert len(bars) == 4  # month2, month3, later, future (gone, in March, is expired; the chart looks ahead)
    for bar in bars:
        title = bar.find(f"{SVG}rect/{SVG}title")
        assert title is not None and title.text
        tooltip = title.text
        month = datetime.strptime(tooltip.split(":")[0], "%B %Y")
        assert bar.get("aria-label") == tooltip
        # The valid filters stay, the page number and anything else go, the month is the bar's.
        assert bar.get("href") == f"{url}?assigned=no&sort=-expiry&month={month:%Y-%m}"
        href = bar.get("href")
        assert href
        listed = client.get(href).context["rows"]
        assert tooltip.endswith(f": {len(listed)} certificate{'' if len(listed) == 1 else 's'}")
        assert {row["valid_until"][:7] for row in listed} == {f"{month:%Y-%m}"}


def test_the_chart_follows_a_new_certificate(world: World, client_for, fleet) -> None:
    client = client_for(world.alice)
    url = reverse("expiry-tenant", args=["acme"])
    assert bar_counts(chart_of(client.get(url).content.decode()))["April 2027"] == "1 certificate"
    make_certificate(world.acme, "april", not_after=NOW + timedelta(days=40))
    assert bar_counts(chart_of(client.get(url).content.decode()))["April 2027"] == "2 certificates"
