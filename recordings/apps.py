from django.apps import AppConfig


class RecordingsConfig(AppConfig):
    name = "recordings"
    verbose_name = "Recordings"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the spool check)
        from .jobs import register as register_jobs

        register_jobs()
