"""IVR profiles, the certificates assigned to them, and the tenant administrator's requests for an assignment.

The Media Control Platform encrypts a voice recording with every certificate in the "recording-certificates" section
of the tenant's IVR profile Annex; Resource Manager names the profile by its DBID. A tenant administrator does not
assign certificates: they ask a Genesys professional, who assigns (or declines) here.

The tables keep the names they had when these models lived in ``certificates`` (``db_table``): the move changed
no row.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from certificates.models import WatchedQuerySet
from portal.accounts.models import Tenant

RECORD_PROFILE_NAME = "record"
ANNEX_SECTION = "recording-certificates"


class IvrProfileQuerySet(WatchedQuerySet["IvrProfile"]):
    def of_tenant(self, tenant: Tenant | uuid.UUID) -> "IvrProfileQuerySet":
        return self.filter(tenant=tenant)


class IvrProfile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="ivr_profiles")
    name = models.CharField(max_length=100)
    dbid = models.PositiveIntegerField("DBID")  # the Configuration Server's object id, as Resource Manager sends it
    description = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = IvrProfileQuerySet.as_manager()

    class Meta:
        db_table = "certificates_ivrprofile"
        ordering = ["name", "dbid"]
        verbose_name = "IVR profile"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "dbid"], name="ivrprofile_dbid_unique_in_tenant"),
            models.UniqueConstraint("tenant", Lower("name"), name="ivrprofile_name_unique_in_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (DBID {self.dbid})"


class IvrAssignmentQuerySet(WatchedQuerySet["IvrAssignment"]):
    def for_certificates(self, ids: list[uuid.UUID]) -> "IvrAssignmentQuerySet":
        return self.filter(certificate_id__in=ids)


class IvrAssignment(models.Model):
    """One certificate in one profile's recording-certificates section. PROTECT on the certificate: the database
    itself refuses to purge a certificate that still encrypts recordings."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    profile = models.ForeignKey("ivr.IvrProfile", on_delete=models.PROTECT, related_name="assignments")
    certificate = models.ForeignKey(
        "certificates.Certificate", on_delete=models.PROTECT, related_name="ivr_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    objects = IvrAssignmentQuerySet.as_manager()

    class Meta:
        db_table = "certificates_ivrassignment"
        ordering = ["assigned_at"]
        verbose_name = "IVR assignment"
        constraints = [
            models.UniqueConstraint(fields=["profile", "certificate"], name="ivrassignment_once_per_profile"),
        ]

    def __str__(self) -> str:
        return f"certificate {self.certificate_id} on IVR profile {self.profile_id}"


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    FULFILLED = "fulfilled", "Assigned"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"  # the certificate was deleted while the request was open


class AssignmentRequestQuerySet(models.QuerySet["AssignmentRequest"]):
    def open(self) -> "AssignmentRequestQuerySet":
        return self.filter(status=RequestStatus.OPEN)

    def closed(self) -> "AssignmentRequestQuerySet":
        return self.exclude(status=RequestStatus.OPEN)


class AssignmentRequest(models.Model):
    """A tenant administrator's "please assign certificate X to profile Y", and the professional's answer.

    The certificate's alias is kept as text too: a request outlives a certificate purged later, and its history
    must still say which one it was."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    profile = models.ForeignKey("ivr.IvrProfile", on_delete=models.PROTECT, related_name="requests")
    certificate = models.ForeignKey(
        "certificates.Certificate", null=True, blank=True, on_delete=models.SET_NULL, related_name="assignment_requests"
    )
    certificate_alias = models.CharField(max_length=64)
    comment = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)

    objects = AssignmentRequestQuerySet.as_manager()

    class Meta:
        db_table = "certificates_assignmentrequest"
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "certificate"],
                condition=models.Q(status="open"),
                name="assignmentrequest_one_open_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"assign '{self.certificate_alias}' to IVR profile {self.profile_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN
