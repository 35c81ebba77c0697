"""How the Local Key Manager names who did something, on its page and in the audit trail."""

from portal.audit.log import Actor
from portal.web.text import visible

from .models import MAX_NAME_LENGTH

GENESYS_USER_HEADER = "PureCloud-User-Id"


def actor_name(by: Actor) -> str:
    return by.user.username if by.user is not None else "command line"


def genesys_user(value: str | None) -> str:
    """The PureCloud-User-Id header as it is recorded: anyone's text, so escaped and bounded."""
    return visible(value or "")[:MAX_NAME_LENGTH]
