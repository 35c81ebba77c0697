from django.apps import AppConfig


class KeystoreConfig(AppConfig):
    name = "keystore"

    def ready(self) -> None:
        from portal.web.health import register_probe

        from . import checks  # noqa: F401  (registers the master-key checks)
        from .api import master_key_health

        register_probe("master_key", master_key_health)
