"""The list's rows are written once and kept: what a row shows decides how it is written, escaping included."""

from django.utils.safestring import mark_safe

from expiry.templatetags.expiry_rows import expiry_rows
from expiry.views import Row


def row(**changes: object) -> Row:
    values = Row(
        alias="<b>alias</b>",
        tenant_slug="acme",
        tenant_url="/t/acme/expiry/",
        detail_url="/t/acme/certificates/1/",
        subject_name="CN=a & b",
        serial_number="01",
        valid_until="2027-01-01 00:00",
        valid_until_iso="2027-01-01T00:00:00+00:00",
        days="10",
        status="expiring",
        status_label="Expiring soon",
        assigned=["IVR profile 'record'"],
        urgent=False,
        renew_url="",
    )
    values.update(changes)  # type: ignore[typeddict-item]
    return values


def test_a_row_shown_again_is_written_the_same() -> None:
    first = expiry_rows([row()], None)
    assert "&lt;b&gt;alias&lt;/b&gt;" in first and "CN=a &amp; b" in first
    assert expiry_rows([row()], None) == first
    assert expiry_rows([row(days="9")], None) == first.replace("<td>10</td>", "<td>9</td>")


def test_text_marked_as_html_is_not_mistaken_for_the_same_plain_text() -> None:
    plain = expiry_rows([row()], None)
    marked = expiry_rows([row(alias=mark_safe("<b>alias</b>"))], None)
    assert "<b>alias</b>" in marked and "<b>alias</b>" not in plain
    assert expiry_rows([row()], None) == plain


def test_each_column_set_is_written_for_itself() -> None:
    across = expiry_rows([row()], None)
    one_tenant = expiry_rows([row()], object())
    with_renew = expiry_rows([row(renew_url="/renew/")], object(), True)
    assert '<a href="/t/acme/expiry/">acme</a>' in across and "/t/acme/expiry/" not in one_tenant
    assert 'aria-label="Renew &lt;b&gt;alias&lt;/b&gt;"' in with_renew and "Renew" not in one_tenant
