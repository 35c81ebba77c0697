from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"

    def ready(self) -> None:
        # Certificates announce their own changes to the cached summaries (revisions.py).
        from . import requests, restore, revisions
        from .models import Certificate

        revisions.watch(Certificate)
        # A restored backup's waiting keys come back waiting.
        restore.register_restore_claim(requests.claim_waiting_key)
