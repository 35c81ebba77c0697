"""What a renewal can do for screen recording: stage the successor on the Screen Recording Certificates list when the
predecessor is on it. The predecessor stays on the list; the successor encrypts screen recordings once an
administrator saves the list with it."""

from certificates.followups import FollowUp
from certificates.models import Certificate
from portal.audit.log import Actor

from .models import ScreenRecordingCertificate
from .staging import stage

NAME = "screen-recording-stage"


def offer(predecessor: Certificate) -> str | None:
    if not ScreenRecordingCertificate.objects.filter(certificate=predecessor).exists():
        return None
    return "Stage the successor on the Screen Recording Certificates list (save it there to use it)"


def apply(predecessor: Certificate, successor: Certificate, by: Actor) -> list[str]:
    return [stage(successor, reason=f"Successor of '{predecessor.alias}'", by=by)]


SCREEN_RECORDING_FOLLOW_UP = FollowUp(name=NAME, offer=offer, apply=apply)
