"""Secrets other than private keys that the portal must read back, such as the Local Key Manager's Hawk keys: sealed
under the tenant's data key, so that a database dump or backup of the database does not reveal them.

The associated data names the tenant, the purpose and the secret's own name, so a sealed secret copied to another
row, purpose or tenant does not open.
"""

from django.views.decorators.debug import sensitive_variables

from portal.accounts.models import Tenant

from . import envelope
from .sealing import KeystoreError, tenant_data_key


def _aad(tenant: Tenant, purpose: str, name: str) -> bytes:
    return f"secret:{tenant.pk}:{purpose}:{name}".encode()


@sensitive_variables("secret", "data_key")
def seal_secret(tenant: Tenant, *, purpose: str, name: str, secret: bytes) -> bytes:
    data_key = tenant_data_key(tenant, create=True)
    return envelope.seal(data_key, secret, _aad(tenant, purpose, name))


@sensitive_variables("data_key")
def open_secret(tenant: Tenant, *, purpose: str, name: str, sealed: bytes) -> bytes:
    """The secret; ``KeystoreError`` when it does not open (altered, moved, or its master key is gone)."""
    data_key = tenant_data_key(tenant)
    try:
        return envelope.open_sealed(data_key, sealed, _aad(tenant, purpose, name))
    except envelope.TamperedError:
        raise KeystoreError(f"the {purpose} secret '{name}' of tenant {tenant.slug} does not open") from None
