"""Deleting (archiving) a certificate drops its staging on the Screen Recording Certificates list."""

from typing import Any

from django.dispatch import receiver

from certificates.events import certificate_archived
from certificates.models import Certificate
from portal.audit.log import Actor


@receiver(certificate_archived, dispatch_uid="screenrecording-drop-staging")
def _drop_staging(sender: Any, certificate: Certificate, by: Actor, **kwargs: Any) -> None:
    # None, not a count: the archive's audit record counts withdrawn requests, and a staging is not one.
    from .staging import drop_archived

    drop_archived(certificate, by=by)
