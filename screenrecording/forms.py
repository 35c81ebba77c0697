"""The Screen Recording Certificates editor's form, read back from a POST.

The staged list travels in hidden fields (``staged``, one per certificate, and ``version``, the saved list's version
the editing started from), so staging works without JavaScript and nothing is written before Save. ``proposed``
names the certificates a renewal staged that this editor showed: Save and Cancel settle those, and no staging made
while the administrator was editing. Each button has its own name: ``open_add`` ("Add" on the panel), ``add`` and
``close_add`` ("Add" and "Cancel" in Select Certificate), ``remove``, ``save`` and ``cancel``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.http import QueryDict

BUTTONS = ("open_add", "add", "close_add", "remove", "save", "cancel")


def _uuids(values: Iterable[str]) -> tuple[list[UUID], bool]:
    """The ids in order without repeats, and whether any value was not an id at all."""
    ids: list[UUID] = []
    malformed = False
    for value in values:
        try:
            pk = UUID(value)
        except ValueError:
            malformed = True
            continue
        if pk not in ids:
            ids.append(pk)
    return ids, malformed


@dataclass(frozen=True)
class EditorPost:
    button: str | None
    version: int | None  # None: missing or not a number
    staged: list[UUID]
    proposed: list[UUID]  # renewal stagings shown in this editor
    selected: list[UUID]  # rows checked for Remove
    picks: list[UUID]  # boxes checked in Select Certificate
    confirm_unencrypted: bool
    malformed: bool

    @property
    def complete(self) -> bool:
        return self.version is not None and not self.malformed


def read_post(data: QueryDict) -> EditorPost:
    button = next((name for name in BUTTONS if name in data), None)
    raw_version = data.get("version", "")
    version = int(raw_version) if raw_version.isdigit() and len(raw_version) < 10 else None
    staged, bad_staged = _uuids(data.getlist("staged"))
    proposed, bad_proposed = _uuids(data.getlist("proposed"))
    selected, bad_selected = _uuids(data.getlist("selected"))
    picks, bad_picks = _uuids(data.getlist("pick"))
    return EditorPost(
        button=button,
        version=version,
        staged=staged,
        proposed=proposed,
        selected=selected,
        picks=picks,
        confirm_unencrypted=data.get("confirm_unencrypted") == "on",
        malformed=bad_staged or bad_proposed or bad_selected or bad_picks or data.get("staging") != "1",
    )
