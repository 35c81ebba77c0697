"""The one rule for keystore aliases, and how an unused one is found.

keytool and the Recording Crypto Server show an entry by its alias, and Java keystores fold aliases to lower case, so
an alias is unique in its tenant without regard to case. Every alias stored obeys the same rule, whether it was typed
on the upload form, proposed from a certificate or read from a restored backup.
"""

import re

from portal.accounts.models import Tenant

from .models import MAX_ALIAS_LENGTH, KeystoreEntry

ALIAS_REQUIRED = "Enter an alias."
ALIAS_TOO_LONG = f"The alias is longer than {MAX_ALIAS_LENGTH} characters."
ALIAS_CHARACTERS = "Use letters, digits, spaces and . _ @ - in the alias, starting with a letter or digit."
FALLBACK_ALIAS = "certificate"

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


def fitting_alias(text: str) -> str:
    """``text`` made to obey the rule: other characters become "-", runs of spaces one space, cut to length."""
    cleaned = re.sub(r"\s+", " ", _OUTSIDE_ALIAS.sub("-", text)).strip(_EDGES)
    return cleaned[:MAX_ALIAS_LENGTH].strip(_EDGES) or FALLBACK_ALIAS


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
    candidate, number = base, 1
    while candidate.lower() in taken:
        number += 1
        suffix = f"-{number}"
        candidate = base[: MAX_ALIAS_LENGTH - len(suffix)] + suffix
    return candidate
