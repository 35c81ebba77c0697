from django.apps import AppConfig


class ScreenrecordingConfig(AppConfig):
    name = "screenrecording"
    verbose_name = "Screen recording certificates"

    def ready(self) -> None:
        # The certificate pages see these assignments (usage) and the expiry summaries learn of their changes.
        from certificates import revisions, usage

        from .models import ScreenRecordingCertificate
        from .services import SCREEN_RECORDING_USAGE

        usage.register(SCREEN_RECORDING_USAGE)
        revisions.watch(ScreenRecordingCertificate)
