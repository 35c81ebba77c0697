"""A version per tenant, replaced whenever the tenant's certificates or their assignments change.

Summaries computed from those rows (the expiry dashboard's counts and chart) are cached under the versions they were
computed from, so any change makes them stale at once. A version is a random UUID rather than a counter: a value
is never seen twice, even after a rolled-back transaction or a deleted tenant, so a stale summary can never be
mistaken for a current one.
"""

import uuid

from django.db import models


class CertificateRevision(models.Model):
    tenant = models.OneToOneField("accounts.Tenant", primary_key=True, on_delete=models.CASCADE, related_name="+")
    version = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.version}"
