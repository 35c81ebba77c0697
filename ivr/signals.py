"""Every tenant starts with the "record" IVR profile for voice recordings, and deleting a certificate withdraws the
open requests to assign it."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from certificates.events import certificate_archived
from certificates.models import Certificate
from portal.accounts.models import Tenant
from portal.audit.log import Actor


@receiver(post_save, sender=Tenant, dispatch_uid="ivr-record-profile")
def _create_record_profile(sender: Any, instance: Tenant, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:  # not while loading fixtures: they carry their own profiles
        from .services import ensure_record_profile

        ensure_record_profile(instance)


@receiver(certificate_archived, dispatch_uid="ivr-withdraw-requests")
def _withdraw_requests(sender: Any, certificate: Certificate, by: Actor, **kwargs: Any) -> int:
    from .services import withdraw_open_requests

    return withdraw_open_requests(certificate, by=by)
