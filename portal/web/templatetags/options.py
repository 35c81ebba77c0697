"""<option> lists written in Python: a hundred tenants rendered through the template engine, one variable and one
comparison at a time, were a noticeable part of every page that offers them. Even ``format_html`` costs a lazy
escape per value; the standard library's ``html.escape`` does the same escaping (quotes included, as attribute
values need) several times faster."""

import html
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _escaped(value: Any) -> str:
    """Text escaped for HTML, in an attribute as in content; what is already HTML (SafeString) stays as it is."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value), quote=True)


@register.simple_tag
def select_options(choices: Iterable[tuple[Any, Any]], current: Any) -> SafeString:
    """``<option>`` for each (value, label) of ``choices``, the one equal to ``current`` selected."""
    return mark_safe(  # noqa: S308  (every value escaped above)
        "".join(
            f'<option value="{_escaped(value)}"{" selected" if value == current else ""}>{_escaped(label)}</option>'
            for value, label in choices
        )
    )


@register.simple_tag
def tenant_options(tenants: Iterable[Any], current: Any) -> SafeString:
    """``<option>`` for each tenant (value: its slug), the current tenant (if any) selected."""
    current_pk = getattr(current, "pk", None)
    return mark_safe(  # noqa: S308  (every value escaped above)
        "".join(
            f'<option value="{_escaped(t.slug)}"{" selected" if current_pk is not None and t.pk == current_pk else ""}>'
            f"{_escaped(t.name)} ({_escaped(t.slug)})</option>"
            for t in tenants
        )
    )
