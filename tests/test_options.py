"""Tenant names and filter choices are written into <option> lists by portal/web/templatetags/options.py:
whatever a tenant is called, the page shows the name and never runs it."""

from django.urls import reverse
from django.utils.safestring import mark_safe

from portal.accounts.models import Tenant
from portal.web.templatetags.options import choice_options
from tests.conftest import World

HOSTILE = """Evil "Corp" <script>alert('x')</script> & co"""


def test_a_hostile_tenant_name_is_escaped_in_the_switcher_and_the_filters(world: World, client_for) -> None:
    Tenant.objects.create(slug="evil", name=HOSTILE)
    sam = client_for(world.sam)
    for url in (reverse("expiry-dashboard"), reverse("audit-log")):
        page = sam.get(url, {"tenant": "evil"}).content.decode()
        assert "<script>alert" not in page
        escaped = "Evil &quot;Corp&quot; &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co (evil)"
        assert page.count(escaped) == 2, url  # in the tenant switcher and in the filter
        assert f'<option value="evil" selected>{escaped}</option>' in page  # the filter keeps the choice


def test_the_current_tenant_is_selected_in_the_switcher(world: World, client_for) -> None:
    page = client_for(world.sam).get(reverse("expiry-tenant", args=["globex"])).content.decode()
    assert '<option value="globex" selected>' in page
    assert '<option value="acme">' in page


def test_a_renamed_tenant_shows_its_new_name(world: World, client_for) -> None:
    sam = client_for(world.sam)
    assert "Acme Contact Center (acme)" in sam.get(reverse("expiry-dashboard")).content.decode()
    world.acme.name = "Acme Recordings"
    world.acme.save()
    page = sam.get(reverse("expiry-dashboard")).content.decode()
    assert page.count("Acme Recordings (acme)") == 2  # in the tenant switcher and in the filter
    assert "Acme Contact Center" not in page


def test_a_label_marked_as_html_and_the_same_text_unmarked_are_written_apart() -> None:
    """Option lists are kept once written; text marked as HTML equals the plain text of the same characters."""
    assert choice_options([("a", mark_safe("<b>x</b>"))], "") == '<option value="a"><b>x</b></option>'
    assert choice_options([("a", "<b>x</b>")], "a") == '<option value="a" selected>&lt;b&gt;x&lt;/b&gt;</option>'
    assert choice_options([("a", "<b>x</b>")], "") == '<option value="a">&lt;b&gt;x&lt;/b&gt;</option>'
