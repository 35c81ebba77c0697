"""The key drill's record on each entry: when its private key last proved it opens what is encrypted to its
certificate, and why the last try failed when it did."""

from django.utils import timezone

from .models import MAX_PROOF_FAILURE_LENGTH, KeystoreEntry


def _fitted(failure: str) -> str:
    text = " ".join(failure.split())  # one line, whatever the exception's message held
    if len(text) <= MAX_PROOF_FAILURE_LENGTH:
        return text
    return text[: MAX_PROOF_FAILURE_LENGTH - 1] + "…"


def record_proof(entry: KeystoreEntry, *, failure: str = "") -> None:
    """Record one check of ``entry``: passed when ``failure`` is empty, else failed for that reason, which the
    Keystore page shows (a message naming the entry, never key material). A failure keeps the last success's time:
    the page says when the key last worked."""
    now = timezone.now()
    reason = _fitted(failure)
    changes: dict[str, object] = {"proof_checked_at": now, "proof_failure": reason}
    if not reason:
        changes["proven_at"] = now
    KeystoreEntry.objects.filter(pk=entry.pk).update(**changes)
    for name, value in changes.items():
        setattr(entry, name, value)
