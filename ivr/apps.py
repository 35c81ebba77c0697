from django.apps import AppConfig


class IvrConfig(AppConfig):
    name = "ivr"
    verbose_name = "IVR profiles"

    def ready(self) -> None:
        # The certificate pages see these assignments (usage), the summaries learn of their changes (revisions), and
        # new tenants get their "record" profile (signals). A profile's name and DBID are part of how an assignment
        # is shown, so profiles count as changes too. A renewal can ask for its successor's assignments (followups).
        from certificates import followups, revisions, usage

        from . import signals  # noqa: F401
        from .followups import IVR_FOLLOW_UP
        from .models import IvrAssignment, IvrProfile
        from .services import IVR_USAGE

        usage.register(IVR_USAGE)
        followups.register(IVR_FOLLOW_UP)
        revisions.watch(IvrAssignment)
        revisions.watch(IvrProfile)
