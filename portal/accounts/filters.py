"""The tenant filter of the cross-tenant pages (expiry, audit trail): a drop-down of the tenants the user may reach
or, when there are more than settings.PORTAL_TENANT_LIST_MAX, a box for a tenant's identifier, checked when the
filter is applied. Either way the page filters by the tenant's id, and a tenant out of reach is refused alike."""

from typing import Any

from django import forms
from django.http import HttpRequest

from portal.web.forms import ReadyChoices

from .access import find_tenant, tenant_choices
from .models import Tenant

IDENTIFIER_MAX_LENGTH = Tenant._meta.get_field("slug").max_length or 100


class TenantFilter:
    def __init__(self, user: Any, choices: list[Any] | None) -> None:
        """``choices``: tenant_choices, None when there are too many to list; ``user``: whose reach a typed
        identifier is checked against."""
        self.user = user
        self.choices = choices
        self._ids: dict[str, Any] = {choice.slug: choice.pk for choice in self.choices or []}

    @classmethod
    def of(cls, request: HttpRequest) -> "TenantFilter":
        return cls(request.user, tenant_choices(request))

    @property
    def listed(self) -> bool:
        return self.choices is not None

    def field(self, label: str, first: list[tuple[str, str]], hint: str = "Identifier, e.g. acme") -> forms.Field:
        """The form field: a drop-down with ``first`` (e.g. "All tenants") before the tenants, or a box showing
        ``hint``, which names any value it takes besides an identifier."""
        if self.choices is None:
            return forms.CharField(
                required=False,
                label=label,
                max_length=IDENTIFIER_MAX_LENGTH,
                widget=forms.TextInput(attrs={"placeholder": hint}),
            )
        return forms.ChoiceField(
            required=False,
            label=label,
            choices=ReadyChoices([*first, *((c.slug, f"{c.name} ({c.slug})") for c in self.choices)]),
        )

    def tenant_id(self, slug: str) -> Any | None:
        """The id of the tenant with this identifier, if the user may reach it."""
        if slug not in self._ids and self.choices is None:
            tenant = find_tenant(self.user, slug)
            self._ids[slug] = tenant.pk if tenant else None  # asked by the check, then by the page: read once
        return self._ids.get(slug)

    def clean(self, slug: str) -> str:
        """A typed identifier, checked (a listed one was checked as a choice)."""
        if slug and self.choices is None and self.tenant_id(slug) is None:
            raise forms.ValidationError(f"No tenant you may see has the identifier “{slug}”.")
        return slug


# A box no identifier was typed in checks nobody's reach: its forms may be shared by every request.
UNLISTED = TenantFilter(None, None)
