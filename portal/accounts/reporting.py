"""Error reports that never show secrets, not even on a developer's DEBUG page.

Django hides ``sensitive_variables`` and ``sensitive_post_parameters`` only when DEBUG is off, so a DEBUG error page
would print a key password or a data key from the frames. This filter is always active, for every view; settings
name it as DEFAULT_EXCEPTION_REPORTER_FILTER.
"""

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class AlwaysSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request: HttpRequest | None) -> bool:
        return True
