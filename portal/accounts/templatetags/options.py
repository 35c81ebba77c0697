"""<option> lists written in Python: a hundred tenants rendered through the template engine, one variable and one
comparison at a time, were a noticeable part of every page that offers them."""

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

SELECTED = mark_safe(" selected")


@register.simple_tag
def select_options(choices: Iterable[tuple[Any, Any]], current: Any) -> SafeString:
    """``<option>`` for each (value, label) of ``choices``, the one equal to ``current`` selected."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, SELECTED if value == current else "", label) for value, label in choices),
    )


@register.simple_tag
def tenant_options(tenants: Iterable[Any], current: Any) -> SafeString:
    """``<option>`` for each tenant (value: its slug), the current tenant (if any) selected."""
    current_pk = getattr(current, "pk", None)
    return format_html_join(
        "",
        '<option value="{}"{}>{} ({})</option>',
        ((t.slug, SELECTED if current_pk is not None and t.pk == current_pk else "", t.name, t.slug) for t in tenants),
    )
