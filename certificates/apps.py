from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"

    def ready(self) -> None:
        # Connects the "record" IVR profile of each new tenant and the revision signals (revisions.py), and reports IVR
        # assignments to the usage registry.
        from . import revisions, signals, usage  # noqa: F401
        from .services_ivr import IVR_USAGE

        usage.register(IVR_USAGE)
