"""What happens to a certificate that other apps must act on, without the certificate code knowing those apps."""

from django.dispatch import Signal

# Sent inside the archiving transaction, with ``certificate`` (just archived) and ``by`` (the ``Actor`` archiving it).
# A receiver returns how many of its own open items it closed, e.g. assignment requests withdrawn; the archive's
# audit record counts them.
certificate_archived = Signal()

# Sent inside the writing transaction whenever tenants' certificates or their assignments change, after their
# revision versions were replaced (which locks those tenants' version rows until the transaction ends, so receivers
# of one tenant run one transaction at a time), with ``tenant_ids``. Summaries kept in tables are brought up to date
# here, in the same transaction as the write.
certificates_changed = Signal()
