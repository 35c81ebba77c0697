from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ExpiryConfig(AppConfig):
    name = "expiry"
    verbose_name = "Certificate expiry"

    def ready(self) -> None:
        from certificates.events import certificates_changed

        from . import tallies

        certificates_changed.connect(tallies.on_certificates_changed, dispatch_uid="expiry-tallies")
        post_migrate.connect(_count_once, sender=self, dispatch_uid="expiry-tallies-first-count")


def _count_once(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Certificates written before the summaries existed are counted once, after the migration that made them."""
    from . import tallies

    tallies.count_if_never_counted(using)
