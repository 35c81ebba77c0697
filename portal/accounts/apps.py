from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "Tenants and users"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects sign-in auditing)
