from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "portal.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the jobs folder check)
