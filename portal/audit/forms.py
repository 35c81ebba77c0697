"""The audit trail's filters: a GET form, so a filtered page and its CSV export share one link."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone

from portal.accounts.filters import TenantFilter
from portal.web.forms import DateInput

NO_TENANT = "-"  # entries not tied to a tenant: sign-ins, password changes
TENANT_FIRST_OPTIONS = [("", "All tenants"), (NO_TENANT, "No tenant (sign-ins, accounts)")]
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
            self.fields["tenant"] = tenants.field("Tenant", TENANT_FIRST_OPTIONS)
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

    def filter_q(self) -> Q:
        """The valid filters as one condition; a field with an error is left out (and shown with its message)."""
        data = self.cleaned_data if self.is_bound else {}
        q = Q()
        tenant = data.get("tenant")
        if tenant == NO_TENANT:
            q &= Q(tenant__isnull=True)
        elif tenant and self.tenants:
            q &= Q(tenant_id=self.tenants.tenant_id(tenant))
        if data.get("user"):
            q &= Q(actor_username=data["user"].strip())
        if data.get("action"):
            q &= Q(action=data["action"].strip())
        if data.get("date_from"):
            q &= Q(created__gte=_day_start(data["date_from"]))
        if data.get("date_to"):
            q &= Q(created__lt=_day_start(data["date_to"] + timedelta(days=1)))
        return q

    @property
    def page_size(self) -> int:
        value = self.cleaned_data.get("per_page") if self.is_bound else None
        return value if value in PAGE_SIZES else PAGE_SIZES[0]


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
