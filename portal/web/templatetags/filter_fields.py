"""A GET filter form's fields, written out by web/filter_fields.html rather than through Django's widget templates,
which render every input and every option through templates of their own: with a hundred tenants to choose from,
that was a noticeable part of the page's time. What each field shows is read here, once, into plain values; asked
for cell by cell in the template, the form's bound fields cost several times the writing."""

from typing import Any, TypedDict

from django import forms, template
from django.utils.safestring import SafeString

from .options import choice_options

register = template.Library()


class HiddenField(TypedDict):
    name: str
    value: Any


class VisibleField(TypedDict):
    name: str
    id: str
    label: str
    value: Any  # as submitted
    errors: list[str]
    options: SafeString | None  # a select's <option> list; None for an input
    input_type: str
    max_length: int | None
    datalist: str  # the id of the <datalist> suggesting values, if any
    placeholder: str


def _value(field: forms.BoundField) -> Any:
    value = field.value()
    return "" if value is None else value


def _visible(field: forms.BoundField) -> VisibleField:
    value = _value(field)
    choices = getattr(field.field, "choices", None)
    widget = field.field.widget
    return VisibleField(
        name=field.html_name,
        id=field.id_for_label,
        label=str(field.label),
        value=value,
        errors=[str(error) for error in field.errors],
        # Choice values are text, so they compare with the submitted value as is.
        options=choice_options(choices, value) if choices else None,
        input_type=getattr(widget, "input_type", "text"),
        max_length=getattr(field.field, "max_length", None),
        datalist=widget.attrs.get("list", ""),
        placeholder=widget.attrs.get("placeholder", ""),
    )


@register.inclusion_tag("web/filter_fields.html")
def filter_fields(form: forms.Form) -> dict[str, Any]:
    return {
        "hidden": [HiddenField(name=field.html_name, value=_value(field)) for field in form.hidden_fields()],
        "errors": [str(error) for error in form.non_field_errors()],
        "fields": [_visible(field) for field in form.visible_fields()],
    }
