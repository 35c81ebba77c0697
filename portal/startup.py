"""A portal process that cannot start because of its configuration says what to fix in one line on stderr and stops,
instead of showing a traceback. manage.py and portal/wsgi.py (gunicorn) start through here; failed system checks keep
Django's own report."""

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import SystemCheckError


def configuration_error_line(error: ImproperlyConfigured) -> str:
    return "Configuration error: " + " ".join(str(error).split())


@contextmanager
def exit_on_configuration_error(status: int) -> Iterator[None]:
    try:
        yield
    except ImproperlyConfigured as error:
        print(configuration_error_line(error), file=sys.stderr, flush=True)
        raise SystemExit(status) from None


def report_failed_checks_in_threads_without_traceback() -> None:
    """runserver runs the system checks in a thread of its own; report a failure there as every other command does
    (the checks' own report, e.g. a wrong master key), not as the thread's traceback."""
    default = threading.excepthook

    def report(args: threading.ExceptHookArgs) -> None:
        if isinstance(args.exc_value, SystemCheckError):
            print(args.exc_value, file=sys.stderr, flush=True)
        else:
            default(args)

    threading.excepthook = report
