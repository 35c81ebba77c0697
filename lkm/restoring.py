"""A keystore backup restored: entries that wrap an LKM keypair become keypairs again, under the id Genesys Cloud
knows them by, instead of recording certificates."""

from certificates.restore import RestoreRefused, register_restore_claim
from keystore.api import KeystoreEntry
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record

from .keypairs import keypair_of_entry
from .models import Keypair, Origin
from .wrapping import keypair_named_by


def claim_keypair(tenant: Tenant, entry: KeystoreEntry, by: Actor) -> bool:
    named = keypair_named_by(bytes(entry.certificate_der))
    if named is None:
        return False
    keypair_id, created = named
    if Keypair.objects.filter(pk=keypair_id).exists():
        # The same key in this tenant was skipped before this call as already in the keystore. Anywhere else, the
        # id is taken: Genesys Cloud knows a keypair by its id alone, so one id never names two keys.
        raise RestoreRefused(f"'{entry.alias}': LKM keypair {keypair_id} is already in the portal.")
    keypair = keypair_of_entry(tenant, entry, keypair_id=keypair_id, date_created=created, origin=Origin.RESTORE, by=by)
    record("lkm-keypair-restored", by=by, tenant=tenant, obj=keypair, details={"keypair": str(keypair_id)})
    return True


register_restore_claim(claim_keypair)
