"""A keystore backup restored: entries that wrap an LKM keypair become keypairs again, under the id Genesys Cloud
knows them by, instead of recording certificates."""

from certificates.restore import RestoreRefused, register_restore_claim
from keystore.api import KeystoreEntry
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from .models import Keypair, Origin
from .wrapping import keypair_named_by, public_key_pkcs1


def claim_keypair(tenant: Tenant, entry: KeystoreEntry, by: Actor) -> bool:
    named = keypair_named_by(bytes(entry.certificate_der))
    if named is None:
        return False
    keypair_id, created = named
    if Keypair.objects.filter(pk=keypair_id).exists():
        # The same key in this tenant was skipped before this call as already in the keystore. Anywhere else, the
        # id is taken: Genesys Cloud knows a keypair by its id alone, so one id never names two keys.
        raise RestoreRefused(f"'{entry.alias}': LKM keypair {keypair_id} is already in the portal.")
    keypair = Keypair.objects.create(
        id=keypair_id,
        tenant=tenant,
        entry=entry,
        public_key_der=public_key_pkcs1(bytes(entry.certificate_der)),
        date_created=created,
        origin=Origin.RESTORE,
        created_by=by.user,
        created_by_name=Origin.RESTORE.label,
    )
    record("lkm-keypair-restored", by=by, tenant=tenant, obj=keypair, details={"keypair": str(keypair_id)})
    return True


register_restore_claim(claim_keypair)
