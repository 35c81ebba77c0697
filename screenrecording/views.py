"""The Screen Recording Certificates page (everyone who may see it) and its editor (tenant administrators).

Add, Remove and the Select Certificate window only change the staged list carried by the form; Save writes it,
Cancel discards it. Certificates a renewal staged (staging.py) join the administrator's editor as pending additions;
Save or Cancel settles them with the rest. The page is rendered by the server at every step, so it works without
JavaScript; static/js/screenrecording.js only opens Select Certificate as a dialog without a round trip.
"""

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from certificates.eligibility import recording_refusal, tenant_roots
from certificates.models import Certificate
from portal.accounts.access import Cap, can, tenant_view
from portal.accounts.models import Tenant
from portal.audit.log import Actor

from . import services, staging
from .forms import EditorPost, read_post

PENDING_ADD = "add"
PENDING_REMOVAL = "remove"


@dataclass(frozen=True)
class Row:
    certificate: Certificate
    pending: str | None  # PENDING_ADD, PENDING_REMOVAL or None (saved and kept)
    problem: str | None  # why it cannot encrypt new recordings now, if it cannot
    staged_reason: str | None = None  # why a renewal staged it ("Successor of 'rec-2026'"), for a pending addition


@dataclass
class Editor:
    """What the page shows: the staged list against the saved one."""

    version: int
    staged: list[Certificate]
    saved: list[Certificate]
    proposed: dict[UUID, str] = field(default_factory=dict)  # renewal stagings shown here: certificate id -> reason
    show_select: bool = False
    errors: list[str] = field(default_factory=list)
    confirm_unencrypted: bool = False

    @property
    def staged_ids(self) -> set[UUID]:
        return {c.pk for c in self.staged}

    @property
    def saved_ids(self) -> set[UUID]:
        return {c.pk for c in self.saved}

    @property
    def rows(self) -> list[Row]:
        roots = tenant_roots(self.staged[0].tenant_id) if self.staged else []
        rows = [
            Row(c, None, recording_refusal(c, roots=roots))
            if c.pk in self.saved_ids
            else Row(c, PENDING_ADD, recording_refusal(c, roots=roots), self.proposed.get(c.pk))
            for c in self.staged
        ]
        rows += [Row(c, PENDING_REMOVAL, None) for c in self.saved if c.pk not in self.staged_ids]
        return rows

    @property
    def dirty(self) -> bool:
        return self.staged_ids != self.saved_ids

    @property
    def removes_all(self) -> bool:
        return bool(self.saved) and not self.staged


def _fresh(tenant: Tenant, *, manage: bool, **kwargs: Any) -> Editor:
    """The saved list; for an administrator, with the renewals' stagings added as pending additions."""
    saved = services.assigned_certificates(tenant)
    proposals = staging.pending(tenant) if manage else []
    return Editor(
        services.current_version(tenant),
        [*saved, *(p.certificate for p in proposals)],
        saved,
        proposed={p.certificate_id: p.reason for p in proposals},
        **kwargs,
    )


def _quoted(aliases: list[str]) -> str:
    return ", ".join(f"'{alias}'" for alias in aliases)


def _render(request: HttpRequest, tenant: Tenant, editor: Editor, status: int = 200) -> HttpResponse:
    manage = can(request.user, Cap.MANAGE_SCREEN_RECORDING)
    return render(
        request,
        "screenrecording/page.html",
        {
            "tenant": tenant,
            "editor": editor,
            "manage": manage,
            "eligible": services.eligible_certificates(tenant, exclude=editor.staged_ids) if manage else [],
            "future_only": services.FUTURE_ONLY,
            "unencrypted_warning": services.UNENCRYPTED_WARNING,
        },
        status=status,
    )


@tenant_view(Cap.VIEW_SCREEN_RECORDING)
@never_cache
def screenrecording(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _render(request, tenant, _fresh(tenant, manage=can(request.user, Cap.MANAGE_SCREEN_RECORDING)))


def _staged_certificates(tenant: Tenant, post: EditorPost) -> tuple[list[Certificate], list[str]]:
    """The staged ids as this tenant's active certificates, in order; notes for any deleted meanwhile."""
    known = {c.pk: c for c in Certificate.objects.filter(tenant=tenant, pk__in=post.staged).select_related("entry")}
    staged = [known[pk] for pk in post.staged if pk in known and known[pk].archived_at is None]
    notes = [
        f"'{known[pk].alias}' was deleted meanwhile and is no longer in the list."
        for pk in post.staged
        if pk in known and known[pk].archived_at is not None
    ]
    return staged, notes


def _add_picks(tenant: Tenant, editor: Editor, picks: list[UUID]) -> None:
    if not picks:
        editor.errors.append("Check at least one certificate in Select Certificate, then click Add.")
        editor.show_select = True
        return
    offered = {c.pk: c for c in services.eligible_certificates(tenant, exclude=editor.staged_ids)}
    refused = [pk for pk in picks if pk not in offered]
    if refused:
        # Eligibility changed since the window was shown (expired, root CA removed, deleted, or added meanwhile).
        editor.errors.append("A certificate you checked can no longer be added; choose again from the current list.")
        editor.show_select = True
        return
    editor.staged += [offered[pk] for pk in picks]


def _remove_selected(editor: Editor, selected: list[UUID]) -> None:
    chosen = set(selected) & editor.staged_ids
    if not chosen:
        editor.errors.append("Check the certificates to remove, then click Remove.")
        return
    editor.staged = [c for c in editor.staged if c.pk not in chosen]


@tenant_view(Cap.MANAGE_SCREEN_RECORDING, methods=("POST",))
@never_cache
def screenrecording_edit(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    post = read_post(request.POST)
    if post.button == "cancel":
        dropped = staging.discard(tenant, post.proposed, by=Actor.of(request))
        also = (
            f" The staged {_quoted(dropped)} {'is' if len(dropped) == 1 else 'are'} discarded too." if dropped else ""
        )
        messages.info(request, f"Changes discarded; nothing was saved.{also}")
        return redirect("screenrecording", tenant=tenant.slug)
    if not post.complete or post.button is None:
        messages.error(request, "The form was incomplete, so nothing was changed. This is the current list.")
        return redirect("screenrecording", tenant=tenant.slug)
    assert post.version is not None
    staged, notes = _staged_certificates(tenant, post)
    editor = Editor(
        post.version,
        staged,
        services.assigned_certificates(tenant),
        proposed=staging.reasons(tenant, post.proposed),
        errors=notes,
    )
    editor.confirm_unencrypted = post.confirm_unencrypted
    if post.button == "save":
        return _save(request, tenant, editor)
    if post.button == "open_add":
        editor.show_select = True
    elif post.button == "add":
        _add_picks(tenant, editor, post.picks)
    elif post.button == "remove":
        _remove_selected(editor, post.selected)
    return _render(request, tenant, editor)


def _save(request: HttpRequest, tenant: Tenant, editor: Editor) -> HttpResponse:
    try:
        change = services.save(
            tenant,
            staged=[c.pk for c in editor.staged],
            base_version=editor.version,
            confirm_unencrypted=editor.confirm_unencrypted,
            by=Actor.of(request),
            shown_stagings=editor.proposed,
        )
    except services.ListChanged as conflict:
        return _render(request, tenant, _fresh(tenant, manage=True, errors=[str(conflict)]), status=409)
    except services.SaveRefused as refused:
        editor.errors.append(str(refused))
        return _render(request, tenant, editor)
    if change is None:
        messages.info(request, "There were no changes to save.")
        return redirect("screenrecording", tenant=tenant.slug)
    # Staged certificates the administrator removed before saving are not proposed again.
    dropped = f" No longer staged: {_quoted(change.unstaged)}." if change.unstaged else ""
    if not change.list_changed:
        messages.info(request, f"The list is unchanged.{dropped}")
    elif not editor.staged:
        messages.warning(request, f"Saved. Screen recordings made from now on are not encrypted.{dropped}")
    else:
        parts = []
        if change.added:
            parts.append("added " + _quoted(change.added))
        if change.removed:
            parts.append("removed " + _quoted(change.removed))
        messages.success(request, f"Saved: {'; '.join(parts)}. {services.FUTURE_ONLY}{dropped}")
    return redirect("screenrecording", tenant=tenant.slug)
