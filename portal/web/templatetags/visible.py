"""``{{ text|visible }}``, ``{{ text|visible:"lines" }}``: text typed by people, with its control and direction
characters written as escapes (line breaks and tabs kept with "lines"). Forms refuse such characters today; rows
saved before they did are shown this way. See ``portal.web.text``."""

from django import template

from ..text import visible as visible_text

register = template.Library()


@register.filter
def visible(value: object, kind: str = "") -> str:
    return visible_text("" if value is None else str(value), lines=kind == "lines")
