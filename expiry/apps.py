from django.apps import AppConfig


class ExpiryConfig(AppConfig):
    name = "expiry"
    verbose_name = "Certificate expiry"
