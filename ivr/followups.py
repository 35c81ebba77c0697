"""What a renewal can do for IVR profiles: ask the Genesys professional to assign the successor wherever the
predecessor is assigned. The predecessor stays assigned; recordings keep being encrypted with it until the
professional assigns the successor (and, later, removes the predecessor)."""

from datetime import UTC

from certificates.followups import FollowUp
from certificates.models import Certificate
from portal.audit.log import Actor

from .models import IvrProfile
from .services import AssignmentRefused, profile_label, request_assignment

NAME = "ivr-requests"


def _profiles_holding(certificate: Certificate) -> list[IvrProfile]:
    return list(
        IvrProfile.objects.filter(tenant_id=certificate.tenant_id, assignments__certificate=certificate)
        .select_related("tenant")
        .order_by("name", "dbid")
    )


def renewal_comment(predecessor: Certificate) -> str:
    """What the professional reads in the request queue."""
    return f"Renewal of '{predecessor.alias}', which expires on {predecessor.not_valid_after.astimezone(UTC):%Y-%m-%d}."


def offer(predecessor: Certificate) -> str | None:
    profiles = _profiles_holding(predecessor)
    if not profiles:
        return None
    where = ", ".join(profile_label(p.name, p.dbid) for p in profiles)
    return f"Ask the Genesys professional to assign the successor to {where}"


def apply(predecessor: Certificate, successor: Certificate, by: Actor) -> list[str]:
    """One request per profile, in the renewal's transaction. A refused request (one is already open, say) is a note:
    the renewal itself has succeeded, and the administrator can still ask on the profile page."""
    comment = renewal_comment(predecessor)
    notes = []
    for profile in _profiles_holding(predecessor):
        label = profile_label(profile.name, profile.dbid)
        try:
            request_assignment(profile, successor, comment=comment, by=by)
        except AssignmentRefused as refused:
            notes.append(f"Not requested for {label}: {refused}")
        else:
            notes.append(f"Requested assignment to {label}.")
    return notes


IVR_FOLLOW_UP = FollowUp(name=NAME, offer=offer, apply=apply)
