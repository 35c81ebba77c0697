"""The one rule for characters that act on the text around them: each is written as an escape in openssl's notation,
forms refuse them, and the template filter shows rows saved before forms did."""

import pytest
from django import forms
from django.template import Context, Template

from portal.web.forms import refuse_invisible, refuse_invisible_in_lines
from portal.web.text import has_invisible, visible


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("invoice\u202egnp.exe", "invoice\\U202Egnp.exe"),  # right-to-left override
        (
            "a\u202ab\u202bc\u202cd\u202de",
            "a\\U202Ab\\U202Bc\\U202Cd\\U202De",
        ),  # embeddings, pop, left-to-right override
        ("\u2066x\u2067y\u2068z\u2069", "\\U2066x\\U2067y\\U2068z\\U2069"),  # isolates
        ("\u200eL\u200fR\u061cA", "\\U200EL\\U200FR\\U061CA"),  # marks
        ("red\x1b[31m", "red\\1B[31m"),  # terminal escape
        ("a\nb\rc\td\x00e", "a\\0Ab\\0Dc\\09d\\00e"),  # C0 controls, NUL among them
        ("del\x7f", "del\\7F"),
        ("nel\x85csi\x9b", "nel\\85csi\\9B"),  # C1 controls
        ("line\u2028para\u2029", "line\\U2028para\\U2029"),  # Unicode line and paragraph separators
    ],
)
def test_each_character_that_acts_on_text_is_shown_as_an_escape(text: str, shown: str) -> None:
    assert visible(text) == shown
    assert has_invisible(text) and not has_invisible(shown)
    assert visible(shown) == shown  # escaping twice changes nothing: stored escapes stay as they are


@pytest.mark.parametrize("text", ["Genesys Recording", "Zürich Опер 录音 שלום مرحبا", "a\\0Ab", "ﬀ ligature, ‍ZWJ"])
def test_readable_text_in_any_script_is_left_alone(text: str) -> None:
    assert visible(text) == text and not has_invisible(text)


def test_text_of_several_lines_keeps_its_line_breaks_and_tabs_only() -> None:
    assert visible("one\r\ntwo\tthree\u202e", lines=True) == "one\r\ntwo\tthree\\U202E"
    assert not has_invisible("one\r\ntwo\tthree", lines=True)
    assert has_invisible("one\x0btwo", lines=True) and has_invisible("one\u2028two", lines=True)


class NameForm(forms.Form):
    name = forms.CharField(validators=[refuse_invisible])
    notes = forms.CharField(required=False, validators=[refuse_invisible_in_lines])


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "rec\u202e"}, "name"),
        ({"name": "rec\nx"}, "name"),
        ({"name": "rec", "notes": "a\x1b[2J"}, "notes"),
        ({"name": "rec", "notes": "two\u2066lines"}, "notes"),
    ],
)
def test_forms_refuse_control_and_direction_characters(data: dict[str, str], field: str) -> None:
    form = NameForm(data)
    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert str(form.errors[field][0]).startswith("Remove the control characters")


def test_forms_accept_line_breaks_where_lines_are_expected() -> None:
    form = NameForm({"name": "record eu", "notes": "first\r\nsecond\tline"})
    assert form.is_valid(), form.errors


def test_the_template_filter_escapes_and_keeps_lines_when_asked() -> None:
    template = Template('{% load visible %}<p>{{ name|visible }}</p><p>{{ notes|visible:"lines" }}</p>')
    page = template.render(Context({"name": "x\u202e<b>\n", "notes": "a\nb\u2066"}))
    assert page == "<p>x\\U202E&lt;b&gt;\\0A</p><p>a\nb\\U2066</p>"
