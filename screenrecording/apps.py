from django.apps import AppConfig


class ScreenrecordingConfig(AppConfig):
    name = "screenrecording"
    verbose_name = "Screen recording certificates"

    def ready(self) -> None:
        from certificates import usage

        from .services import SCREEN_RECORDING_USAGE

        usage.register(SCREEN_RECORDING_USAGE)
