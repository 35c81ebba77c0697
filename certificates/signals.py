"""Every tenant starts with the "record" IVR profile for voice recordings."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from portal.accounts.models import Tenant


@receiver(post_save, sender=Tenant, dispatch_uid="certificates-record-profile")
def _create_record_profile(sender: Any, instance: Tenant, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:  # not while loading fixtures: they carry their own profiles
        from .services_ivr import ensure_record_profile

        ensure_record_profile(instance)
