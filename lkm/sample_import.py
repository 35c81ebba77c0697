"""Moving from the sample Local Key Manager: its keypairs become keypairs here under the same ids, so that the
recordings Genesys Cloud wrapped with them keep playing back. All or nothing."""

from django.db import transaction

from keystore.api import AliasError, KeyFileError, store_bare_key
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from .keypairs import keypair_of_entry
from .models import Keypair, Origin
from .sample_export import SampleKeypair
from .wrapping import alias_for, wrapper_for


class ImportRefused(ValueError):
    """One line naming the keypair that stopped the import; nothing was imported."""


def import_sample_keypairs(tenant: Tenant, rows: list[SampleKeypair], *, by: Actor) -> list[Keypair]:
    """Each row's private key checked against its public key and sealed in the keystore, in one transaction."""
    imported = []
    with transaction.atomic():
        taken = set(Keypair.objects.filter(pk__in=[row.id for row in rows]).values_list("pk", flat=True))
        for row in rows:
            where = f"line {row.line} (keypair {row.id})"
            if row.id in taken:
                raise ImportRefused(f"{where}: a keypair with this id is already in the portal.")
            try:
                entry = store_bare_key(
                    tenant,
                    alias=alias_for(row.id),
                    private_key_der=row.private_key_der,
                    public_key_der=row.public_key_der,
                    certificate=wrapper_for(row.id, row.date_created),
                )
            except (KeyFileError, AliasError) as refused:
                raise ImportRefused(f"{where}: {refused}") from None
            imported.append(
                keypair_of_entry(
                    tenant, entry, keypair_id=row.id, date_created=row.date_created, origin=Origin.IMPORT, by=by
                )
            )
        record(
            "lkm-keypairs-imported",
            by=by,
            tenant=tenant,
            details={"keypairs": [str(keypair.id) for keypair in imported]},
        )
    return imported
