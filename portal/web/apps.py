from django.apps import AppConfig


class WebConfig(AppConfig):
    """An app so that its template tags and templates are found, and its system checks registered."""

    name = "portal.web"
    label = "web"
    verbose_name = "Shared page parts"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the shared-cache check)
