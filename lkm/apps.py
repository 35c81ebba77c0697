from django.apps import AppConfig


class LkmConfig(AppConfig):
    name = "lkm"
    verbose_name = "Local Key Manager"

    def ready(self) -> None:
        from . import checks, restoring  # noqa: F401  (registers the settings check and the restore claim)
