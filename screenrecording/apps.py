from django.apps import AppConfig


class ScreenrecordingConfig(AppConfig):
    name = "screenrecording"
