"""<option> lists for the filters and the tenant switcher, written with format_html.

The cross-tenant pages carry two lists of every tenant. Escaping each name on each request, even with format_html,
cost more than the rest of the select, so a list once written is kept for as long as the process runs (least
recently used first out): it depends only on its (value, label) pairs, which come from the server (tenant names,
filter choices), and on which value is selected. What a request submits only picks the selected value among them.
"""

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()

# Lists kept: a few per tenant (the switcher and the tenant filter, each with one tenant selected) and the filters.
KEPT_LISTS = 1024


def _write(choices: Iterable[tuple[Any, Any]], selected: Any) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == selected else "", label) for value, label in choices),
    )


@lru_cache(maxsize=KEPT_LISTS)
def _kept(choices: tuple[tuple[str, str], ...], selected: str | None) -> SafeString:
    return _write(choices, selected)


def choice_options(choices: Iterable[tuple[Any, Any]], current: Any) -> SafeString:
    """``<option>`` for each (value, label) of ``choices``, the one equal to ``current`` selected."""
    pairs = tuple(choices)
    # Only plain text is kept: text already marked as HTML, or a lazy translation, is equal to the plain text of the
    # same characters but must be written differently.
    if all(type(value) is str and type(label) is str for value, label in pairs):
        selected = current if any(value == current for value, _ in pairs) else None
        return _kept(pairs, selected)
    return _write(pairs, current)


@register.simple_tag
def tenant_options(tenants: Iterable[Any], current: Any) -> SafeString:
    """``<option>`` for each tenant (value: its slug), the current tenant (if any) selected."""
    return choice_options(((t.slug, f"{t.name} ({t.slug})") for t in tenants), getattr(current, "slug", None))


@register.simple_tag
def datalist_options(values: Iterable[str]) -> SafeString:
    """``<option>`` for each value a ``<datalist>`` suggests, written in one call rather than one template loop
    iteration each."""
    return format_html_join("", '<option value="{}">', ((value,) for value in values))
