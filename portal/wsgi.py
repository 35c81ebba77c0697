import logging
import os

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

from portal.startup import exit_on_configuration_error

# The status gunicorn's arbiter takes for "App failed to load": it stops, instead of booting worker after worker.
APP_LOAD_ERROR = 4

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

with exit_on_configuration_error(status=APP_LOAD_ERROR):
    application = get_wsgi_application()

    # gunicorn does not run system checks; the keystore's and the Local Key Manager's must pass before anything is
    # served (a wrong master key or public URL would otherwise show up only as failed key operations or requests).
    _errors = [message for message in checks.run_checks(tags=["keystore", "lkm"]) if message.is_serious()]
    if _errors:
        raise ImproperlyConfigured(
            "Refusing to start: " + " ".join(f"({e.id}) {e.msg} {e.hint or ''}".strip() for e in _errors)
        )

    # gunicorn's worker count is on its command line, which only this process sees: a per-process cache under
    # several workers is reported here (a warning; pages stay correct).
    for _warning in checks.run_checks(tags=[checks.Tags.caches]):
        logging.getLogger("portal.wsgi").warning("(%s) %s %s", _warning.id, _warning.msg, _warning.hint or "")
