"""The audit trail's filters: a GET form, so a filtered page and its CSV export share one link."""

import threading
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django import forms
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import get_language

from portal.accounts.filters import UNLISTED, TenantFilter
from portal.web.forms import DateInput

Condition = tuple[str, str, Any]  # a field, a lookup ("exact", "isnull", "gte", "lt") and its value

NO_TENANT = "-"  # entries not tied to a tenant: sign-ins, password changes
TENANT_FIRST_OPTIONS = [("", "All tenants"), (NO_TENANT, "No tenant (sign-ins, accounts)")]
TENANT_HINT = f"Identifier, or {NO_TENANT} for sign-ins and accounts"  # the box's, beyond the tenants listed
PAGE_SIZES = (25, 50)


class AuditFilterForm(forms.Form):
    tenant = forms.ChoiceField(required=False, label="Tenant")
    user = forms.CharField(required=False, max_length=150, label="User")
    action = forms.CharField(required=False, max_length=64, label="Action")
    date_from = forms.DateField(required=False, label="From", widget=DateInput)
    date_to = forms.DateField(required=False, label="To", widget=DateInput)
    per_page = forms.TypedChoiceField(
        required=False,
        label="Per page",
        choices=[(str(n), str(n)) for n in PAGE_SIZES],
        coerce=int,
        empty_value=None,
    )

    def __init__(self, data: Any, *, tenants: TenantFilter | None, actions: list[str]) -> None:
        """``tenants``: the tenants this user may filter on, or None on a one-tenant page."""
        super().__init__(data)
        self.tenants = tenants
        if tenants is None:
            del self.fields["tenant"]
        else:
            self.fields["tenant"] = tenants.field("Tenant", TENANT_FIRST_OPTIONS, TENANT_HINT)
        self.fields["action"].widget.attrs["list"] = "audit-actions"
        self.actions = actions

    def clean_tenant(self) -> str:
        value: str = self.cleaned_data["tenant"]
        if self.tenants is None or value == NO_TENANT:
            return value
        return self.tenants.clean(value)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return cleaned

    def conditions(self) -> list[Condition]:
        """The valid filters, as (field, lookup, value); a field with an error is left out (and shown with its
        message). The pages read with them in SQL of their own (``reading``), the export through ``filter_q``."""
        data = self.cleaned_data if self.is_bound else {}
        conditions: list[Condition] = []
        tenant = data.get("tenant")
        if tenant == NO_TENANT:
            conditions.append(("tenant", "isnull", True))
        elif tenant and self.tenants:
            conditions.append(("tenant", "exact", self.tenants.tenant_id(tenant)))
        if data.get("user"):
            conditions.append(("actor_username", "exact", data["user"].strip()))
        if data.get("action"):
            conditions.append(("action", "exact", data["action"].strip()))
        if data.get("date_from"):
            conditions.append(("created", "gte", _day_start(data["date_from"])))
        if data.get("date_to"):
            conditions.append(("created", "lt", _day_start(data["date_to"] + timedelta(days=1))))
        return conditions

    def filter_q(self) -> Q:
        """The valid filters as one condition."""
        return Q(*((f"{field}__{lookup}", value) for field, lookup, value in self.conditions()))

    @property
    def page_size(self) -> int:
        value = self.cleaned_data.get("per_page") if self.is_bound else None
        return value if value in PAGE_SIZES else PAGE_SIZES[0]


# The tenant filter of the last tenant list seen: tenant_choices hands every request the same list while the tenants
# are unchanged, so its forms are kept under it.
_kept_filter: TenantFilter | None = None
_kept_filter_lock = threading.Lock()


def _listed_filter(tenants: TenantFilter) -> TenantFilter:
    global _kept_filter
    with _kept_filter_lock:
        if _kept_filter is None or tenants.choices is not _kept_filter.choices:
            _kept_filter = TenantFilter(None, tenants.choices)  # a listed identifier is checked as a choice
            _validated.cache_clear()  # forms of another tenant list are not asked for again
        return _kept_filter


# Forms validated lately. What a form holds once validated (values, errors, conditions, choices) follows from what is
# submitted, the tenant list and action names read on this request, the time zone and the language: with all of
# these in the key, a form kept is the form that would be made now.
KEPT_FORMS = 256
FIELD_NAMES = tuple(AuditFilterForm.base_fields)


def filter_form(data: QueryDict, *, tenants: TenantFilter | None, actions: list[str]) -> AuditFilterForm:
    """The filter form of a page, validated (its errors are shown next to their field; the other filters apply).
    Shared by the requests that submit the same: not to be changed. A typed tenant identifier is checked against
    the database and the user's reach on every request, so such a form is never shared."""
    values = tuple(data.get(name) for name in FIELD_NAMES)
    if tenants is None:
        kept = None
    elif tenants.listed:
        kept = _listed_filter(tenants)
    elif (data.get("tenant") or "").strip() in ("", NO_TENANT):
        kept = UNLISTED
    else:
        return _made(values, tenants, tuple(actions))
    return _validated(values, kept, tuple(actions), timezone.get_current_timezone_name(), get_language())


@lru_cache(maxsize=KEPT_FORMS)
def _validated(
    values: tuple[str | None, ...], tenants: TenantFilter | None, actions: tuple[str, ...], zone: str, language: str
) -> AuditFilterForm:
    """``zone`` and ``language`` are part of the key only: the form's values and messages follow them."""
    return _made(values, tenants, actions)


def _made(values: tuple[str | None, ...], tenants: TenantFilter | None, actions: tuple[str, ...]) -> AuditFilterForm:
    data = {name: value for name, value in zip(FIELD_NAMES, values, strict=True) if value is not None}
    form = AuditFilterForm(data, tenants=tenants, actions=list(actions))
    form.is_valid()
    return form


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
