"""Mail each tenant's administrators when a recording certificate crosses an expiry threshold. Meant for cron (daily
or hourly), on one node or on every node at once: running it again sends nothing new, and of runs that plan the same
mail only the one whose claim succeeds sends it (a row made under a unique constraint, or a conditional update of a
failed one, committed before the mail leaves). See expiry/models.py for why a notice is recorded before its mail."""

import smtplib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate
from certificates.usage import labels_for
from expiry.models import ExpiryNotification, NotificationStatus
from portal.accounts.models import Role, User
from portal.audit.log import COMMAND, record

SENT_OR_SENDING = (NotificationStatus.SENT, NotificationStatus.SENDING)
STALE_AFTER = timedelta(hours=1)


def thresholds() -> list[int]:
    """settings.PORTAL_NOTIFY_DAYS, largest first."""
    return sorted({int(days) for days in settings.PORTAL_NOTIFY_DAYS if int(days) > 0}, reverse=True)


def crossed_thresholds(not_valid_after: datetime, now: datetime, days: list[int]) -> list[int]:
    """The thresholds a certificate has crossed: its remaining time is at most that many days, and it has not
    expired yet (status_for counts the very end instant as still valid)."""
    if not_valid_after < now:
        return []
    return [d for d in days if not_valid_after <= now + timedelta(days=d)]


def remaining_text(not_valid_after: datetime, now: datetime) -> str:
    days = (not_valid_after - now).days
    if days == 0:
        return "less than a day"
    return f"{days} day{'' if days == 1 else 's'}"


def renew_url(cert: Certificate) -> str:
    """The certificate's Renew page as an absolute address, when settings.PORTAL_PUBLIC_URL says where the portal is;
    "" otherwise (the mail then says where Renew is)."""
    base = settings.PORTAL_PUBLIC_URL.rstrip("/")
    if not base:
        return ""
    return base + reverse("certificate-renew", args=[cert.tenant.slug, cert.pk])


@dataclass
class Plan:
    certificate: Certificate
    threshold: int  # the most urgent crossed threshold: the one the mail is about
    also: list[int]  # other crossed thresholds, recorded as covered by this mail
    existing: bool  # the threshold has a row from an earlier attempt that did not send (failed, or covered)
    recipients: list[tuple[str, str]] = field(default_factory=list)  # (username, address)


class Command(BaseCommand):
    help = (
        "E-mail tenant administrators about recording certificates that crossed an expiry threshold "
        "(settings PORTAL_NOTIFY_DAYS, default 60, 30, 14, 7 and 1 days before expiry). Each certificate and threshold "
        "is mailed at most once, even when this runs on several nodes at once; several thresholds crossed at once "
        "give one mail, about the nearest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list the mails without sending or recording")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        now = timezone.now()
        days = thresholds()
        if not days:
            self.stdout.write("No notification thresholds are configured (PORTAL_NOTIFY_DAYS).")
            return
        plans, without_recipients = self._plan(now, days)
        for tenant_name, count in sorted(without_recipients.items()):
            self.stderr.write(
                f"{tenant_name}: no active tenant administrator has an e-mail address; {count} certificate"
                f"{'' if count == 1 else 's'} not notified (retried on the next run)."
            )
        if dry_run:
            for plan in plans:
                addresses = ", ".join(address for _, address in plan.recipients)
                self.stdout.write(
                    f"Would mail {addresses}: {plan.certificate.tenant.slug}/{plan.certificate.alias} "
                    f"crossed {plan.threshold} days"
                )
            self.stdout.write(f"{len(plans)} notice{'' if len(plans) == 1 else 's'} would be sent.")
            return
        labels = labels_for([plan.certificate.pk for plan in plans])
        sent = failed = 0
        connection = get_connection()
        if plans:
            try:
                connection.open()
            except (smtplib.SMTPException, OSError) as exc:
                raise CommandError(
                    f"The mail server cannot be reached ({exc}); nothing was sent or recorded."
                ) from None
        try:
            for plan in plans:
                if not self._claim(plan, now):
                    continue  # another run took it
                error = self._send(connection, plan, labels.get(plan.certificate.pk, []), now)
                self._finish(plan, error)
                if error:
                    failed += 1
                else:
                    sent += 1
        finally:
            connection.close()
        self._report_stale(now)
        self.stdout.write(f"{sent} expiry notice{'' if sent == 1 else 's'} sent.")
        if failed:
            raise CommandError(
                f"{failed} expiry notice{'' if failed == 1 else 's'} could not be sent; retried next run."
            )

    def _plan(self, now: datetime, days: list[int]) -> tuple[list[Plan], dict[str, int]]:
        """Who gets which mail: three queries whatever the number of certificates."""
        candidates = list(
            Certificate.objects.active()
            .filter(not_valid_after__gte=now, not_valid_after__lte=now + timedelta(days=max(days)))
            .select_related("entry", "tenant")
            .order_by("tenant__slug", "not_valid_after", "pk")
        )
        done: dict[Any, dict[int, str]] = defaultdict(dict)
        for cert_id, threshold, status in ExpiryNotification.objects.filter(certificate__in=candidates).values_list(
            "certificate_id", "threshold_days", "status"
        ):
            done[cert_id][threshold] = status
        admins: dict[Any, list[tuple[str, str]]] = defaultdict(list)
        memberships = (
            User.tenants.through.objects.filter(
                tenant_id__in={cert.tenant_id for cert in candidates},
                user__role=Role.TENANT_ADMIN,
                user__is_active=True,
            )
            .exclude(user__email="")
            .order_by("user__username")
            .values_list("tenant_id", "user__username", "user__email")
        )
        for tenant_id, username, email in memberships:
            admins[tenant_id].append((username, email))

        plans: list[Plan] = []
        without_recipients: dict[str, int] = defaultdict(int)
        for cert in candidates:
            crossed = crossed_thresholds(cert.not_valid_after, now, days)
            if not crossed:
                continue
            nearest = min(crossed)
            previous = done.get(cert.pk, {})
            if previous.get(nearest) in SENT_OR_SENDING or any(
                d < nearest and status in SENT_OR_SENDING for d, status in previous.items()
            ):
                continue  # already mailed for this threshold (or a nearer one)
            if not admins.get(cert.tenant_id):
                without_recipients[cert.tenant.name] += 1
                continue
            # Thresholds crossed since the last mail (or whose own mail failed) are covered by this one.
            also = [d for d in crossed if d != nearest and previous.get(d, NotificationStatus.FAILED) == "failed"]
            plans.append(Plan(cert, nearest, also, nearest in previous, admins[cert.tenant_id]))
        return plans, without_recipients

    def _claim(self, plan: Plan, now: datetime) -> bool:
        """Record the notice (committed before any mail leaves); False if a concurrent run recorded it first."""
        try:
            with transaction.atomic():
                recipients = ", ".join(address for _, address in plan.recipients)
                if plan.existing:
                    claimed = ExpiryNotification.objects.filter(
                        certificate=plan.certificate,
                        threshold_days=plan.threshold,
                        status__in=(NotificationStatus.FAILED, NotificationStatus.COVERED),
                    ).update(status=NotificationStatus.SENDING, recipients=recipients, error="")
                    if not claimed:
                        return False
                else:
                    ExpiryNotification.objects.create(
                        certificate=plan.certificate,
                        threshold_days=plan.threshold,
                        status=NotificationStatus.SENDING,
                        created=now,
                        recipients=recipients,
                    )
                for threshold in plan.also:
                    ExpiryNotification.objects.update_or_create(
                        certificate=plan.certificate,
                        threshold_days=threshold,
                        defaults={"status": NotificationStatus.COVERED},
                        create_defaults={"status": NotificationStatus.COVERED, "created": now},
                    )
        except IntegrityError:
            return False
        return True

    def _send(self, connection: Any, plan: Plan, labels: list[str], now: datetime) -> str:
        """Send the mail; the error text if the backend refused it, else ""."""
        cert = plan.certificate
        context = {
            "cert": cert,
            "tenant": cert.tenant,
            "threshold": plan.threshold,
            "remaining": remaining_text(cert.not_valid_after, now),
            "assigned": labels,
            "later": ", ".join(str(d) for d in thresholds() if d < plan.threshold),
            "renew_url": renew_url(cert),
        }
        subject = " ".join(render_to_string("expiry/email/subject.txt", context).split())
        body = render_to_string("expiry/email/body.txt", context)
        message = EmailMessage(subject, body, to=[address for _, address in plan.recipients], connection=connection)
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        return ""

    def _finish(self, plan: Plan, error: str) -> None:
        cert = plan.certificate
        notice = ExpiryNotification.objects.filter(certificate=cert, threshold_days=plan.threshold)
        details = {
            "threshold_days": plan.threshold,
            "also_crossed": sorted(plan.also, reverse=True),
            "recipients": [username for username, _ in plan.recipients],
            "not_valid_after": cert.not_valid_after.isoformat(),
        }
        with transaction.atomic():
            if error:
                notice.update(status=NotificationStatus.FAILED, error=error)
                record(
                    "expiry-notification-failed",
                    by=COMMAND,
                    tenant=cert.tenant,
                    obj=cert,
                    details={**details, "error": error},
                )
                self.stderr.write(f"{cert.tenant.slug}/{cert.alias}: the mail could not be sent ({error}).")
            else:
                notice.update(status=NotificationStatus.SENT, sent_at=timezone.now())
                record("expiry-notification-sent", by=COMMAND, tenant=cert.tenant, obj=cert, details=details)

    def _report_stale(self, now: datetime) -> None:
        stale = ExpiryNotification.objects.filter(status=NotificationStatus.SENDING, created__lt=now - STALE_AFTER)
        count = stale.count()
        if count:
            self.stderr.write(
                f"{count} notice{'' if count == 1 else 's'} stopped before the mail was confirmed (a crash during an "
                "earlier run); not sent again, to avoid duplicates."
            )
