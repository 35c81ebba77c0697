"""The one place that decides who may see and do what.

Rules:
- a role grants a fixed set of capabilities (ROLE_CAPABILITIES); nothing else does, superusers included;
- a user reaches a tenant only through ``tenants_for``; any other tenant answers 404, as if it did not exist;
- an object is loaded only through ``scoped_get``, filtered by its tenant in the query itself, so another tenant's
  object is a 404 by construction;
- a role without the capability answers 403.
"""

from collections.abc import Callable
from enum import Enum, StrEnum
from functools import wraps
from typing import Any, NamedTuple, TypeVar

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import ForeignKey, Model, QuerySet
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from .models import Role, Tenant, User
from .reading import Quote, RowReader


class Cap(StrEnum):
    VIEW_CERTIFICATES = "view-certificates"
    MANAGE_CERTIFICATES = "manage-certificates"
    VIEW_KEY_DETAILS = "view-key-details"
    MANAGE_KEYS = "manage-keys"  # backup, restore, key download
    DECRYPT_RECORDINGS = "decrypt-recordings"  # recordings played back with the tenant's keys
    MANAGE_LKM = "manage-lkm"  # the Local Key Manager: credentials, keypairs, rotation
    MANAGE_ROOT_CAS = "manage-root-cas"
    VIEW_IVR_PROFILES = "view-ivr-profiles"
    ASSIGN_IVR = "assign-ivr"
    REQUEST_ASSIGNMENT = "request-assignment"
    VIEW_SCREEN_RECORDING = "view-screen-recording"
    MANAGE_SCREEN_RECORDING = "manage-screen-recording"
    VIEW_EXPIRY = "view-expiry"
    VIEW_AUDIT = "view-audit"
    VIEW_ALL_TENANTS = "view-all-tenants"


ROLE_CAPABILITIES: dict[str, frozenset[Cap]] = {
    Role.TENANT_ADMIN: frozenset(
        {
            Cap.VIEW_CERTIFICATES,
            Cap.MANAGE_CERTIFICATES,
            Cap.VIEW_KEY_DETAILS,
            Cap.MANAGE_KEYS,
            Cap.DECRYPT_RECORDINGS,
            Cap.MANAGE_LKM,
            Cap.MANAGE_ROOT_CAS,
            Cap.VIEW_IVR_PROFILES,
            Cap.REQUEST_ASSIGNMENT,
            Cap.VIEW_SCREEN_RECORDING,
            Cap.MANAGE_SCREEN_RECORDING,
            Cap.VIEW_EXPIRY,
            Cap.VIEW_AUDIT,
        }
    ),
    Role.PROFESSIONAL: frozenset(
        {Cap.VIEW_CERTIFICATES, Cap.VIEW_IVR_PROFILES, Cap.ASSIGN_IVR, Cap.VIEW_SCREEN_RECORDING, Cap.VIEW_EXPIRY}
    ),
    Role.SUPPORT: frozenset(
        {
            Cap.VIEW_CERTIFICATES,
            Cap.VIEW_KEY_DETAILS,
            Cap.VIEW_IVR_PROFILES,
            Cap.VIEW_SCREEN_RECORDING,
            Cap.VIEW_EXPIRY,
            Cap.VIEW_AUDIT,
            Cap.VIEW_ALL_TENANTS,
        }
    ),
}


def can(user: Any, cap: Cap) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return cap in ROLE_CAPABILITIES.get(user.role, frozenset())


class Reach(Enum):
    NONE = "none"
    MEMBER = "member"  # the tenants the user is a member of
    ALL = "all"


def reach(user: Any) -> Reach:
    """Which tenants this user may reach at all: the rule ``tenants_for`` and ``tenant_for`` both follow."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Reach.NONE
    if can(user, Cap.VIEW_ALL_TENANTS):
        return Reach.ALL
    if user.role in (Role.TENANT_ADMIN, Role.PROFESSIONAL):
        return Reach.MEMBER
    return Reach.NONE


def tenants_for(user: Any) -> QuerySet[Tenant]:
    """The tenants this user may reach at all."""
    match reach(user):
        case Reach.ALL:
            return Tenant.objects.all()
        case Reach.MEMBER:
            return Tenant.objects.filter(users=user)
    return Tenant.objects.none()


def tenant_choices(request: HttpRequest) -> list[Any] | None:
    """(pk, slug, name) of the tenants the signed-in user may reach (``tenants_for``), in slug order, read once per
    request: a filter form and the tenant switcher of the same page both list them. None when there are more than
    settings.PORTAL_TENANT_LIST_MAX: the pages then ask for a tenant's identifier to be typed (``find_tenant``)
    rather than write every tenant into every page. The list is shared: not to be changed."""
    if not hasattr(request, "_tenant_choices"):
        limit = settings.PORTAL_TENANT_LIST_MAX
        choices: list[Any] | None
        if can(request.user, Cap.VIEW_ALL_TENANTS) and connection.vendor == "postgresql":
            choices = _every_tenant(limit)
        else:
            choices = _tenant_rows(tenants_for(request.user)[: limit + 1])
            if len(choices) > limit:
                choices = None
        request._tenant_choices = choices  # type: ignore[attr-defined]
    return request._tenant_choices  # type: ignore[attr-defined]


def find_tenant(user: Any, slug: str) -> Tenant | None:
    """The tenant with this identifier if this user may reach it, else None (unknown and foreign look the same)."""
    try:
        return tenant_for(user, slug)
    except Http404:
        return None


def _tenant_slug(quote: Quote) -> str:
    return f"{quote(Tenant._meta.db_table)}.{quote('slug')} = %s"


def _member_and_slug(quote: Quote) -> str:
    membership = Tenant.users.through._meta
    table = quote(membership.db_table)
    column = {field.name: quote(field.column) for field in membership.fields if isinstance(field, ForeignKey)}
    tenant_pk = f"{quote(Tenant._meta.db_table)}.{quote(Tenant._meta.pk.column or 'id')}"
    return (
        f"INNER JOIN {table} ON {table}.{column['tenant']} = {tenant_pk} "
        f"WHERE {table}.{column['user']} = %s AND " + _tenant_slug(quote)
    )


# Every tenant page reads its tenant: with statements written once rather than a query compiled per request.
_any_tenant = RowReader(Tenant, lambda quote: "WHERE " + _tenant_slug(quote))
_member_tenant = RowReader(Tenant, _member_and_slug)


def _tenant_rows(tenants: QuerySet[Tenant]) -> list[Any]:
    return list(tenants.values_list("pk", "slug", "name", named=True))


class TenantChoice(NamedTuple):
    pk: Any
    slug: str
    name: str


# Every tenant as last read by this process, with the digest of the rows it was read from.
_kept_tenants: tuple[str, list[Any]] = ("", [])
# How many tenants there are; when no more than the limit, the digest of the rows: their number and the sum of a
# 64-bit hash of each, so any row added, removed or changed changes it (but for a chance of one in 2**64), in any
# order. Then the rows themselves, only when the digest is not the one given. Beyond the limit, neither is worked
# out: the conditions on the count are evaluated once, before any row is read.
_EVERY_TENANT = """
    WITH counted AS (SELECT count(*) AS n FROM {table}),
    digest AS (
        SELECT count(*) || ':' || coalesce(sum(hashtextextended(id::text || ' ' || slug || ' ' || name, 0)), 0) AS value
        FROM {table} WHERE (SELECT n FROM counted) <= %s
    )
    SELECT (SELECT n FROM counted), value, NULL, NULL, NULL FROM digest
    UNION ALL
    SELECT NULL, NULL, id, slug, name FROM {table}
    WHERE (SELECT n FROM counted) <= %s AND (SELECT value FROM digest) <> %s
    ORDER BY 4 NULLS FIRST
"""


def _every_tenant(limit: int) -> list[Any] | None:
    """Every tenant, or None when there are more than ``limit``, in one query that returns the rows only when their
    digest differs from the one the kept list was read with: the digest is one short answer, where a thousand rows
    cost milliseconds to turn into Python values. Asked on every request, so a change made through any process
    shows on the next page everywhere."""
    global _kept_tenants
    kept_digest, kept = _kept_tenants
    with connection.cursor() as cursor:
        sql = _EVERY_TENANT.format(table=connection.ops.quote_name(Tenant._meta.db_table))
        cursor.execute(sql, [limit, limit, kept_digest])
        rows = cursor.fetchall()
    count, digest = rows[0][0], str(rows[0][1])
    if count > limit:
        return None
    if digest == kept_digest:
        return kept
    choices: list[Any] = [TenantChoice(pk, slug, name) for _, _, pk, slug, name in rows if pk is not None]
    _kept_tenants = (digest, choices)
    return choices


def tenant_for(user: User, slug: str) -> Tenant:
    """The named tenant, or 404 if this user may not reach it (unknown and foreign look the same): the tenant
    ``tenants_for(user).get(slug=slug)`` would give."""
    match reach(user):
        case Reach.ALL:
            tenant = _any_tenant.get([slug])
        case Reach.MEMBER:
            tenant = _member_tenant.get([user.pk, slug])
        case _:
            tenant = None
    if tenant is None:
        raise Http404
    return tenant


M = TypeVar("M", bound=Model)


def scoped_get(queryset: QuerySet[M], tenant: Tenant, **lookup: Any) -> M:
    """Load one object of ``tenant``; another tenant's object is a 404 because the query never sees it."""
    if "tenant" in lookup or "tenant_id" in lookup:
        raise ValueError("scoped_get filters by tenant itself")
    return get_object_or_404(queryset.filter(tenant=tenant), **lookup)


def check(user: Any, cap: Cap) -> None:
    if not can(user, cap):
        raise PermissionDenied


View = Callable[..., HttpResponseBase]  # streamed responses included


def tenant_view(cap: Cap, methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Decorate a view ``view(request, tenant, **kwargs)`` under ``/t/<slug:tenant>/``.

    Order: sign-in, the HTTP method (405), the tenant (404 when out of reach, so a foreign tenant looks like none),
    then the capability (403). ``request.tenant`` is set for templates.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, tenant: str, **kwargs: Any) -> HttpResponseBase:
            tenant_obj = tenant_for(request.user, tenant)  # type: ignore[arg-type]
            check(request.user, cap)
            request.tenant = tenant_obj  # type: ignore[attr-defined]
            return view(request, tenant_obj, **kwargs)

        return login_required(require_http_methods(list(methods))(wrapper))

    return decorate


def user_view(cap: Cap | None = None, methods: tuple[str, ...] = ("GET",)) -> Callable[[View], View]:
    """Decorate a view that is not under one tenant (cross-tenant pages, account pages)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponseBase:
            if cap is not None:
                check(request.user, cap)
            return view(request, **kwargs)

        return login_required(require_http_methods(list(methods))(wrapper))

    return decorate
