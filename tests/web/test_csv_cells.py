"""CSV downloads cannot run formulas in a spreadsheet: a text cell that starts like one (=, +, -, @, tab, carriage
return, as OWASP lists them) gets a leading quote. Numbers and dates the portal writes stay as they are, so a
negative count of days still sorts and sums as a number."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from ivr.models import IvrProfile
from portal.audit.log import Actor, record
from portal.web.export import csv_lines, safe_cell
from tests.conftest import World, make_user
from tests.factories import expired_certificate, make_certificate


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://example.com","x")', '\'=HYPERLINK("http://example.com","x")'),
        ("+41 44 000 00 00", "'+41 44 000 00 00"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "\\09=1+1"),  # the tab is written as an escape, so the cell no longer starts a formula
        ("\r=1+1", "\\0D=1+1"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_text_that_starts_like_a_formula_is_quoted(value: str, cell: str) -> None:
    assert safe_cell(value) == cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (-40, -40),
        (3.5, 3.5),
        (True, "yes"),
        (None, ""),
        (date(2027, 2, 3), "2027-02-03"),
        (datetime(2027, 2, 3, 12, 0, tzinfo=UTC), "2027-02-03T12:00:00+00:00"),
    ],
)
def test_numbers_and_dates_the_portal_writes_are_left_alone(value: object, cell: object) -> None:
    assert safe_cell(value) == cell


def test_a_written_row_reads_back_as_the_spreadsheet_shows_it() -> None:
    lines = "".join(csv_lines(["Name", "Days"], [["-cmd|' /C calc'!A0", -5], ['say "hi"\n=1', 7]]))
    rows = list(csv.reader(io.StringIO(lines)))
    assert rows == [["Name", "Days"], ["'-cmd|' /C calc'!A0", "-5"], ['say "hi"\\0A=1', "7"]]


def read(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@time_machine.travel(datetime(2027, 3, 15, 12, 0, tzinfo=UTC), tick=False)
def test_the_expiry_export_quotes_hostile_names_and_keeps_negative_days(world: World, client_for) -> None:
    make_certificate(world.acme, "plus", cn="+1 555 0100", days=5)
    make_certificate(world.acme, "at", cn="@SUM(1,2)", days=6, key_index=1)
    expired_certificate(world.acme, "minus", ended=datetime(2027, 3, 11, 11, 0, tzinfo=UTC))
    rows = {row["Alias"]: row for row in read(client_for(world.alice).get(reverse("expiry-tenant-csv", args=["acme"])))}
    assert rows["plus"]["Subject Name"] == "'+1 555 0100"
    assert rows["at"]["Subject Name"] == "'@SUM(1,2)"
    assert rows["minus"]["Days left"] == "-5"  # a number: no quote
    assert rows["minus"]["Not valid after (UTC)"] == "2027-03-11T11:00:00+00:00"
    assert rows["plus"]["Days left"] == "5"


def test_the_audit_export_quotes_hostile_objects_and_users(world: World, client_for) -> None:
    profile = IvrProfile.objects.create(tenant=world.acme, name='=HYPERLINK("http://evil.example","open")', dbid=5)
    mallory = make_user("@mallory", "tenant-admin", world.acme)
    record("ivr-profile-created", by=Actor(mallory), tenant=world.acme, obj=profile, details={"comment": "-1+2"})
    rows = read(client_for(world.sam).get(reverse("audit-log-csv"), {"action": "ivr-profile-created"}))
    assert [(row["User"], row["Object"]) for row in rows] == [
        ("'@mallory", '\'=HYPERLINK("http://evil.example","open") (DBID 5)')
    ]
    assert rows[0]["Details"] == '{"comment": "-1+2"}'  # JSON text starts with "{": nothing to neutralise
    assert int(rows[0]["Id"]) > 0
