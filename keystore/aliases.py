"""The one rule for keystore aliases, and how an unused one is found.

keytool and the Recording Crypto Server show an entry by its alias, and Java keystores fold aliases to lower case, so
an alias is unique in its tenant without regard to case. Every alias stored obeys the same rule, whether it was typed
on the upload form, proposed from a certificate or read from a restored backup. The rule (ASCII letters, digits,
spaces and . _ @ -) also keeps aliases safe wherever they are written: no control or text-direction character, no
"=", "[" or "#" that would change a configuration line (the IVR Annex names each option by its alias).
"""

import re
from dataclasses import dataclass

from portal.accounts.models import Tenant
from portal.web.text import has_invisible

from .models import MAX_ALIAS_LENGTH, KeystoreEntry

ALIAS_REQUIRED = "Enter an alias."
ALIAS_TOO_LONG = f"The alias is longer than {MAX_ALIAS_LENGTH} characters."
ALIAS_CHARACTERS = "Use letters, digits, spaces and . _ @ - in the alias, starting with a letter or digit."
FALLBACK_ALIAS = "certificate"

# Why a wanted alias was stored as another: each says which rule it met, for the page, the report or the command.
CHANGED_CONTROLS = "its line breaks, control or text-direction characters were replaced, as an alias may not hold them"
CHANGED_CHARACTERS = (
    "characters other than letters, digits, spaces and . _ @ - were replaced, as an alias must start with a letter "
    "or digit and hold only those"
)
CHANGED_SHORTENED = f"it was shortened to {MAX_ALIAS_LENGTH} characters, the longest alias allowed"
CHANGED_EMPTY = f"no letter or digit was left, so it is '{FALLBACK_ALIAS}'"

_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._@-]*")
_OUTSIDE_ALIAS = re.compile(r"[^A-Za-z0-9 ._@-]+")
_EDGES = " .-_@"
# Room kept for the "-2", "-3" … suffix when looking up which numbered aliases are taken: up to "-9999999".
_SUFFIX_ROOM = 8


class AliasError(ValueError):
    """An alias that cannot be stored; the message says why, in words."""


def alias_taken_message(alias: str) -> str:
    return f"The alias '{alias}' is already used in this keystore (aliases ignore case)."


def alias_taken(tenant: Tenant, alias: str) -> bool:
    """Archived certificates keep their entries, and so their aliases."""
    return KeystoreEntry.objects.of_tenant(tenant).with_alias(alias.strip()).exists()


def check_alias(tenant: Tenant, alias: str) -> str:
    """The alias as it will be stored (without surrounding spaces), or ``AliasError``."""
    alias = alias.strip()
    if not alias:
        raise AliasError(ALIAS_REQUIRED)
    if len(alias) > MAX_ALIAS_LENGTH:
        raise AliasError(ALIAS_TOO_LONG)
    if not _ALIAS.fullmatch(alias):
        raise AliasError(ALIAS_CHARACTERS)
    if alias_taken(tenant, alias):
        raise AliasError(alias_taken_message(alias))
    return alias


def _fitted(text: str) -> str:
    """Other characters become "-", runs of spaces one space, and what may not start or end an alias goes."""
    return re.sub(r"\s+", " ", _OUTSIDE_ALIAS.sub("-", text)).strip(_EDGES)


def fitting_alias(text: str) -> str:
    """``text`` made to obey the rule: other characters become "-", runs of spaces one space, cut to length."""
    return _fitted(text)[:MAX_ALIAS_LENGTH].strip(_EDGES) or FALLBACK_ALIAS


def alias_changes(text: str) -> list[str]:
    """Why ``fitting_alias(text)`` differs from ``text`` (surrounding spaces aside, but not line breaks or other
    controls there), in the order the rule applies."""
    wanted = text.strip(" ")
    fitted = _fitted(wanted)
    reasons = []
    if has_invisible(wanted):
        reasons.append(CHANGED_CONTROLS)
        # The rest is judged as if those characters were not there, so each reason is named once.
        wanted = "".join(character for character in wanted if not has_invisible(character))
    if _fitted(wanted) != wanted:
        reasons.append(CHANGED_CHARACTERS)
    if len(fitted) > MAX_ALIAS_LENGTH:
        reasons.append(CHANGED_SHORTENED)
    if not fitted:
        reasons.append(CHANGED_EMPTY)
    return reasons


@dataclass(frozen=True)
class ProposedAlias:
    """An alias that obeys the rule and is unused in the tenant, and why it is not the one wanted (empty when it is)."""

    alias: str
    reasons: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        """The reasons as one sentence, e.g. "Changed: it was shortened to 64 characters, …"; "" when unchanged."""
        return f"Changed: {'; '.join(self.reasons)}." if self.reasons else ""


def propose_alias(tenant: Tenant, wanted: str) -> ProposedAlias:
    """``wanted`` made to obey the rule and, when the tenant already uses it, numbered -2, -3 …, with the reasons."""
    alias, fitted = unused_alias(tenant, wanted), fitting_alias(wanted)
    reasons = alias_changes(wanted)
    if alias != fitted:
        reasons.append(f"'{fitted}' is already taken in this keystore (aliases ignore case), so it was numbered")
    return ProposedAlias(alias, tuple(reasons))


def unused_alias(tenant: Tenant, wanted: str) -> str:
    """``wanted`` made to obey the rule and, when the tenant already uses it, numbered -2, -3 …"""
    base = fitting_alias(wanted)
    # Every candidate starts with this prefix, so one bounded query finds all that could clash.
    prefix = base[: MAX_ALIAS_LENGTH - _SUFFIX_ROOM]
    taken = {
        alias.lower()
        for alias in KeystoreEntry.objects.of_tenant(tenant)
        .filter(alias__istartswith=prefix)
        .values_list("alias", flat=True)
    }
    return numbered(base, taken)


def numbered(base: str, taken: set[str]) -> str:
    """``base``, or when ``taken`` (lower case) holds it, ``base`` numbered -2, -3 … and cut to fit the length."""
    candidate, number = base, 1
    while candidate.lower() in taken:
        number += 1
        suffix = f"-{number}"
        candidate = base[: MAX_ALIAS_LENGTH - len(suffix)] + suffix
    return candidate
