"""The end of a keystore entry's life. Entries are never deleted on the way: a deleted certificate is archived with
its entry intact, and only an explicit purge, confirmed and audited by the caller, removes the sealed private key.
"""

import uuid

from django.db import transaction

from portal.accounts.models import Tenant

from .models import KeystoreEntry


class EntryGone(Exception):
    """The entry no longer exists (purged by a concurrent request)."""


def purge_entry(tenant: Tenant, entry_id: uuid.UUID) -> str:
    """Delete one entry of ``tenant``, sealed private key included, for good, inside the caller's transaction (which
    must also hold the audit record). Returns the alias it had. Whatever still refers to the entry (its
    certificate) must be deleted first: the database refuses otherwise."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("purge_entry must run inside the transaction that audits it")
    entry = KeystoreEntry.objects.select_for_update().filter(tenant=tenant, pk=entry_id).first()
    if entry is None:
        raise EntryGone(str(entry_id))
    alias = entry.alias
    entry.delete()
    return alias
