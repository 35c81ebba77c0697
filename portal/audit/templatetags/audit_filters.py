"""The audit trail's filter fields and action suggestions, written once per filter form.

``forms.filter_form`` hands the requests that submit the same values the same validated form, so what it shows is
written the first time and kept with it (``web/filter_fields.html`` through ``filter_fields``, as on other pages).
"""

from functools import lru_cache

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString

from portal.web.templatetags.filter_fields import filter_fields
from portal.web.templatetags.options import datalist_options

from ..forms import KEPT_FORMS, AuditFilterForm

register = template.Library()


@register.simple_tag
@lru_cache(maxsize=KEPT_FORMS)  # keyed by the form itself
def audit_filter_fields(form: AuditFilterForm) -> SafeString:
    return SafeString(get_template("web/filter_fields.html").render(filter_fields(form)))


@register.simple_tag
def audit_action_options(form: AuditFilterForm) -> SafeString:
    return _action_options(tuple(form.actions))


@lru_cache(maxsize=KEPT_FORMS)
def _action_options(actions: tuple[str, ...]) -> SafeString:
    return datalist_options(actions)
