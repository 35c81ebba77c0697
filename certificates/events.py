"""What happens to a certificate that other apps must act on, without the certificate code knowing those apps."""

from django.dispatch import Signal

# Sent inside the archiving transaction, with ``certificate`` (just archived) and ``by`` (the ``Actor`` archiving it).
# A receiver returns how many of its own open items it closed, e.g. assignment requests withdrawn; the archive's
# audit record counts them.
certificate_archived = Signal()
