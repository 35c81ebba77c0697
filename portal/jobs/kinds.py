"""The kinds of job. The apps that own the work register theirs in AppConfig.ready, so this app imports none of them:
a kind names what it does, who may see it, and ``run(job, progress)``, the work itself."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from portal.accounts.access import Cap

if TYPE_CHECKING:
    from .models import Job
    from .progress import Progress


@dataclass(frozen=True)
class Kind:
    name: str
    title: str  # shown on the job page, e.g. "Keystore backup"
    cap: Cap  # what a user needs to see the job
    run: "Callable[[Job, Progress], None]"
    owner_only: bool = False  # only the user who started it sees it (what it shows is theirs alone)
    result_url: "Callable[[Job], str] | None" = None  # a page of the kind's own showing the result, once done


_kinds: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    if kind.name in _kinds and _kinds[kind.name] != kind:
        raise ValueError(f"Two job kinds are named {kind.name!r}.")
    _kinds[kind.name] = kind


def get(name: str) -> Kind:
    """The kind, or KeyError when no installed app registers it."""
    return _kinds[name]
