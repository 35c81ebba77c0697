from django.apps import AppConfig


class ScreenrecordingConfig(AppConfig):
    name = "screenrecording"
    verbose_name = "Screen recording certificates"

    def ready(self) -> None:
        # The certificate pages see these assignments (usage) and the expiry summaries learn of their changes. A
        # renewal can stage its successor on the list (followups); archiving a certificate drops its staging (signals).
        from certificates import followups, revisions, usage

        from . import signals  # noqa: F401
        from .followups import SCREEN_RECORDING_FOLLOW_UP
        from .models import ScreenRecordingCertificate
        from .services import SCREEN_RECORDING_USAGE

        usage.register(SCREEN_RECORDING_USAGE)
        followups.register(SCREEN_RECORDING_FOLLOW_UP)
        revisions.watch(ScreenRecordingCertificate)
