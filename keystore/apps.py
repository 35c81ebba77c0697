import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


def master_key_probe() -> tuple[bool, str]:
    """For /healthz: whether the master key answers, and its provider's kind alone ("file", "pkcs11", "aws-kms").
    The health line may name a token label or a key's ARN: it goes to the log when the key is down, not to the
    load balancer."""
    from .api import master_key_health
    from .masterkeys.base import MasterKeyError
    from .masterkeys.loading import CURRENT, provider_kind

    ok, line = master_key_health()
    if not ok:
        logger.warning("Health check: %s", line)
    try:
        kind = provider_kind(CURRENT) or "none"
    except MasterKeyError:  # several providers configured at once
        kind = "misconfigured"
    return ok, kind.lower().replace("#", "").replace(" ", "-")


class KeystoreConfig(AppConfig):
    name = "keystore"

    def ready(self) -> None:
        from portal.web.health import register_probe

        from . import checks  # noqa: F401  (registers the master-key checks)
        from .jobs import register as register_jobs

        register_jobs()
        register_probe("master_key", master_key_probe)
