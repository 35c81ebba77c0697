from typing import Any

from django.http import HttpRequest

from .access import ROLE_CAPABILITIES, Cap, tenant_choices


def navigation(request: HttpRequest) -> dict[str, Any]:
    """What the base layout needs: the current tenant, the tenants to switch to (or, when there are too many
    to list, a switcher that asks for an identifier), and what the role may do."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    caps = ROLE_CAPABILITIES.get(user.role, frozenset())
    choices = tenant_choices(request) if user.role != "tenant-admin" else ()
    return {
        "current_tenant": getattr(request, "tenant", None),
        "switch_tenants": choices or (),
        "switch_by_identifier": choices is None,
        "caps": {cap.name: True for cap in Cap if cap in caps},
    }
