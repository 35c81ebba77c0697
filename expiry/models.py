"""What ``notify_expiring`` has done: one row per certificate and threshold, ever (a unique constraint), so a
threshold is never mailed twice, whether cron runs the command again or two runs overlap.

A row is written and committed *before* its mail goes out (status "sending"), then marked "sent" or "failed":
- a crash after the commit and before the mail leaves a row in "sending", which is never mailed again: at most one
  mail per threshold, rather than a duplicate after every crash (the next threshold still warns);
- a mail the backend refuses (SMTP down) is marked "failed" and retried by the next run.

CASCADE on the certificate: certificates are archived, not deleted, and the audit log keeps the history of every
mail; should a certificate ever be purged, its bookkeeping goes with it rather than blocking the purge.
"""

from django.db import models


class NotificationStatus(models.TextChoices):
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    COVERED = "covered", "Covered by a more urgent mail"  # crossed together with a nearer threshold


class ExpiryNotification(models.Model):
    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.CASCADE, related_name="expiry_notifications"
    )
    threshold_days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=NotificationStatus.choices)
    created = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.TextField(blank=True)  # the addresses, comma-separated
    error = models.CharField(max_length=300, blank=True)

    objects: models.Manager["ExpiryNotification"] = models.Manager()

    class Meta:
        db_table = "certificates_expirynotification"  # made when this model lived in certificates; rows kept
        ordering = ["certificate", "-threshold_days"]
        constraints = [
            models.UniqueConstraint(fields=["certificate", "threshold_days"], name="expirynotification_once"),
        ]

    def __str__(self) -> str:
        return f"{self.threshold_days}-day notice for {self.certificate_id}: {self.status}"


# The summaries of the expiry dashboards: how many active certificates end (and start) on each day, per tenant and
# across all tenants, kept current in the transaction of every write (expiry/tallies.py) and read by the dashboards
# (expiry/summary.py) instead of counting the certificates themselves. Days are UTC days, the site's time zone.

ALL_TENANTS = "all tenants"  # how the all-tenant rows are named in a report


class EndingTally(models.Model):
    """A tenant's active certificates that end on a day, assigned or not."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    assigned = models.BooleanField()
    ends = models.DateField()
    count = models.IntegerField()  # never 0: such rows are deleted

    objects: models.Manager["EndingTally"] = models.Manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "assigned", "ends"], name="endingtally_key")]
        # With the count, so that PostgreSQL reads a tenant's rows from the index alone (the key above cannot carry
        # it: a unique constraint with included columns is not made at all on SQLite).
        indexes = [models.Index(fields=["tenant", "assigned", "ends"], include=["count"], name="endingtally_read")]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.count} {'assigned ' if self.assigned else ''}ending {self.ends}"


class StartingTally(models.Model):
    """The same certificates by the day they start and the day they end: the dashboards read only the rows of days
    still to come (not yet valid certificates, few), by the index that leads with the start."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.CASCADE, related_name="+")
    assigned = models.BooleanField()
    starts = models.DateField()
    ends = models.DateField()
    count = models.IntegerField()

    objects: models.Manager["StartingTally"] = models.Manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "starts", "assigned", "ends"], name="startingtally_key"),
        ]
        indexes = [
            models.Index(fields=["tenant", "starts", "assigned", "ends"], include=["count"], name="startingtally_read")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.count} {'assigned ' if self.assigned else ''}from {self.starts} to {self.ends}"


class AllEndingTally(models.Model):
    """EndingTally across all tenants. Not unique: a write adds a row with its difference instead of updating a row
    that writes in other tenants update too, so no write waits for another tenant's transaction to end. Each write
    then merges the rows of the keys it touched that no other transaction holds (expiry/tallies.py). Readers sum."""

    assigned = models.BooleanField()
    ends = models.DateField()
    count = models.IntegerField()

    objects: models.Manager["AllEndingTally"] = models.Manager()

    class Meta:
        indexes = [models.Index(fields=["assigned", "ends"], include=["count"], name="allendingtally_read")]

    def __str__(self) -> str:
        return f"all tenants: {self.count:+d} {'assigned ' if self.assigned else ''}ending {self.ends}"


class AllStartingTally(models.Model):
    """StartingTally across all tenants, kept as AllEndingTally is."""

    assigned = models.BooleanField()
    starts = models.DateField()
    ends = models.DateField()
    count = models.IntegerField()

    objects: models.Manager["AllStartingTally"] = models.Manager()

    class Meta:
        indexes = [models.Index(fields=["starts", "assigned", "ends"], include=["count"], name="allstartingtally_read")]

    def __str__(self) -> str:
        return f"all tenants: {self.count:+d} {'assigned ' if self.assigned else ''}from {self.starts} to {self.ends}"
