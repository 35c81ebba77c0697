"""What a renewal may also do in the apps that use certificates: each registers a follow-up here, so the Renew page
offers it and the renewal runs it without the certificate code knowing those apps (as ``usage`` does for where
certificates are assigned). This module is a leaf: it imports nothing of the apps.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FollowUp:
    name: str
    # predecessor -> the checkbox label on the Renew page, or None when it has nothing to do for this certificate
    offer: Callable[[Any], str | None]
    # (predecessor, successor, actor) -> notes for the page, run inside the renewal's transaction
    apply: Callable[[Any, Any, Any], list[str]]


_follow_ups: dict[str, FollowUp] = {}


def register(follow_up: FollowUp) -> None:
    _follow_ups[follow_up.name] = follow_up


def offered(predecessor: Any) -> list[tuple[str, str]]:
    """(name, label) of each follow-up that has something to do for this certificate."""
    offers = []
    for follow_up in _follow_ups.values():
        label = follow_up.offer(predecessor)
        if label:
            offers.append((follow_up.name, label))
    return offers


def known(names: Collection[str]) -> list[str]:
    """The registered ones among ``names``, in registration order: what a renewal keeps to run."""
    wanted = set(names)
    return [name for name in _follow_ups if name in wanted]


def run(names: Collection[str], predecessor: Any, successor: Any, by: Any) -> list[str]:
    notes: list[str] = []
    for name in known(names):
        notes += _follow_ups[name].apply(predecessor, successor, by)
    return notes
