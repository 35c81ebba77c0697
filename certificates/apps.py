from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"

    def ready(self) -> None:
        # Certificates announce their own changes to the cached summaries (revisions.py).
        from . import revisions
        from .models import Certificate

        revisions.watch(Certificate)
