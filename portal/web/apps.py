from django.apps import AppConfig


class WebConfig(AppConfig):
    """An app only so that its template tags and templates are found."""

    name = "portal.web"
    label = "web"
    verbose_name = "Shared page parts"
