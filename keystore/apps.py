from django.apps import AppConfig


class KeystoreConfig(AppConfig):
    name = "keystore"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the master-key checks)
        from .jobs import register as register_jobs

        register_jobs()
