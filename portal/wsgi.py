import os

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

# gunicorn does not run system checks; the keystore's must pass before anything is served (a wrong master key would
# otherwise show up only as failures on key operations).
_errors = [message for message in checks.run_checks(tags=["keystore"]) if message.is_serious()]
if _errors:
    raise ImproperlyConfigured("Refusing to start:\n" + "\n".join(f"{e.msg} {e.hint or ''}".strip() for e in _errors))
