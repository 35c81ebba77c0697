#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line

    from portal.startup import exit_on_configuration_error, report_failed_checks_in_threads_without_traceback

    if "--traceback" in sys.argv:  # Django's option to see the whole traceback of a failing command
        execute_from_command_line(sys.argv)
        return
    report_failed_checks_in_threads_without_traceback()
    with exit_on_configuration_error(status=1):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
