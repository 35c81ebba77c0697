import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command

from expiry.models import ExpiryNotification
from portal.accounts.models import Role
from portal.audit.models import AuditEntry
from tests.conftest import World, make_user
from tests.factories import assign_to_ivr, ca_issued_certificate, make_certificate

END = datetime(2027, 6, 30, 9, 30, tzinfo=UTC)  # the certificate's notAfter in most tests
CREATED = END - timedelta(days=200)
SECOND = timedelta(seconds=1)


def run(**kwargs) -> None:
    call_command("notify_expiring", **kwargs)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def cert(world: World):
    with at(CREATED):
        return make_certificate(world.acme, "rec-2027", not_after=END)


def notices(cert) -> dict[int, str]:
    return dict(ExpiryNotification.objects.filter(certificate=cert).values_list("threshold_days", "status"))


@pytest.mark.parametrize("threshold", [60, 30, 14, 7, 1])
@pytest.mark.parametrize(
    "offset,crossed",
    [(-SECOND, False), (timedelta(0), True), (SECOND, True)],
    ids=["one second before", "exactly at", "one second after"],
)
def test_threshold_boundaries(world: World, cert, threshold, offset, crossed) -> None:
    # Every earlier threshold has been mailed, so only this one can be new.
    for earlier in (d for d in (60, 30, 14, 7, 1) if d > threshold):
        ExpiryNotification.objects.create(certificate=cert, threshold_days=earlier, status="sent", created=CREATED)
    with at(END - timedelta(days=threshold) + offset):
        run()
    if crossed:
        assert len(mail.outbox) == 1
        assert notices(cert)[threshold] == "sent"
    else:
        assert mail.outbox == []
        assert threshold not in notices(cert)


def test_last_instant_before_expiry_still_warns_and_an_expired_certificate_does_not(world: World, cert) -> None:
    with at(END + SECOND):
        run()
    assert mail.outbox == [] and notices(cert) == {}
    with at(END):
        run()
    assert len(mail.outbox) == 1 and notices(cert)[1] == "sent"


def test_mail_goes_to_the_tenants_active_administrators_with_an_address(world: World, cert) -> None:
    make_user("alice2", Role.TENANT_ADMIN, world.acme)
    no_address = make_user("alice3", Role.TENANT_ADMIN, world.acme)
    no_address.email = ""
    no_address.save()
    gone = make_user("alice4", Role.TENANT_ADMIN, world.acme)
    gone.is_active = False
    gone.save()
    with at(END - timedelta(days=59)):
        run()
    assert len(mail.outbox) == 1
    # Not bob (another tenant), pat (professional), sam (support), alice3 (no address) or alice4 (inactive).
    assert sorted(mail.outbox[0].to) == ["alice2@example.com", "alice@example.com"]


def test_mail_says_which_certificate_expires_when_and_where_it_is_used(world: World, cert) -> None:
    assign_to_ivr(cert)
    with at(END - timedelta(days=29, hours=12)):
        run()
    message = mail.outbox[0]
    assert message.subject == 'Acme Contact Center: recording certificate "rec-2027" expires in 29 days (2027-06-30)'
    assert "Subject Name:   rec-2027" in message.body
    assert f"Serial Number:  {cert.serial_number}" in message.body
    assert "2027-06-30 09:30 UTC" in message.body
    assert "Assigned to:    IVR profile 'record'" in message.body
    assert "older recordings can only be played back with them" in message.body
    assert "You will be reminded again 14, 7, 1 days before expiry." in message.body


def test_mail_says_to_renew_in_the_portal_and_to_keep_the_old_key(world: World, cert) -> None:
    with at(END - timedelta(days=20)):
        run()
    body = mail.outbox[0].body
    assert 'Go to Recording Certificates, open "rec-2027" and click Renew.' in body
    assert "Renew generates the successor, a new key and certificate, inside the portal." in body
    assert "ask your Genesys professional to assign the successor" in body
    assert "upload them" not in body and "Renew:" not in body  # no address is configured
    assert "Keep the expired certificate and its private key: older recordings can only be played back with them." in (
        body
    )


def test_mail_for_a_ca_issued_certificate_says_renew_makes_a_request_for_the_ca(world: World) -> None:
    issued, _ = ca_issued_certificate(world.acme, "acme-ca-2027")
    with at(issued.not_valid_after - timedelta(days=10)):
        run()
    body = mail.outbox[0].body
    assert "click Renew. Renew generates a new key inside the portal and a certificate signing request (CSR)" in body
    assert "the successor is ready once you upload the certificate the CA returns" in body


def test_mail_links_to_the_renew_page_when_the_portals_address_is_set(world: World, cert, settings) -> None:
    settings.PORTAL_PUBLIC_URL = "https://certificates.example.com"
    with at(END - timedelta(days=20)):
        run()
    assert f"  Renew:          https://certificates.example.com/t/acme/certificates/{cert.pk}/renew/\n" in (
        mail.outbox[0].body
    )


def test_never_twice_for_the_same_certificate_and_threshold(world: World, cert) -> None:
    with at(END - timedelta(days=45)):
        run()
        run()
    with at(END - timedelta(days=40)):
        run()
    assert len(mail.outbox) == 1
    with at(END - timedelta(days=30)):
        run()
        run()
    assert len(mail.outbox) == 2
    assert "expires in 30 days" in mail.outbox[1].subject
    assert notices(cert) == {60: "sent", 30: "sent"}
    entries = AuditEntry.objects.filter(action="expiry-notification-sent").order_by("id")
    assert [e.details["threshold_days"] for e in entries] == [60, 30]
    assert all(e.tenant == world.acme and e.object_id == str(cert.pk) and e.actor is None for e in entries)
    assert entries[0].details["recipients"] == ["alice"]


def test_several_thresholds_crossed_at_once_give_one_mail_about_the_nearest(world: World) -> None:
    with at(CREATED):
        late = make_certificate(world.acme, "uploaded-late", not_after=END)
    with at(END - timedelta(days=5)):
        run()
        run()
    assert len(mail.outbox) == 1
    assert "expires in 5 days" in mail.outbox[0].subject
    assert notices(late) == {60: "covered", 30: "covered", 14: "covered", 7: "sent"}
    entry = AuditEntry.objects.get(action="expiry-notification-sent")
    assert entry.details["threshold_days"] == 7 and entry.details["also_crossed"] == [60, 30, 14]
    with at(END - timedelta(hours=12)):
        run()
    assert len(mail.outbox) == 2 and notices(late)[1] == "sent"


def test_archived_certificates_are_not_notified(world: World) -> None:
    with at(CREATED):
        make_certificate(world.acme, "retired", not_after=END, archived=True)
    with at(END - timedelta(days=3)):
        run()
    assert mail.outbox == [] and not ExpiryNotification.objects.exists()


def test_each_tenant_hears_about_its_own_certificates(world: World, cert) -> None:
    with at(CREATED):
        make_certificate(world.globex, "globex-rec", not_after=END)
    with at(END - timedelta(days=10)):
        run()
    by_recipient = {tuple(m.to): m.subject for m in mail.outbox}
    assert set(by_recipient) == {("alice@example.com",), ("bob@example.com",)}
    assert "rec-2027" in by_recipient[("alice@example.com",)]
    assert "globex-rec" in by_recipient[("bob@example.com",)]


def test_a_tenant_without_reachable_administrators_is_reported_and_retried(world: World, cert, capsys) -> None:
    world.alice.email = ""
    world.alice.save()
    with at(END - timedelta(days=20)):
        run()
        assert "Acme Contact Center: no active tenant administrator has an e-mail address" in capsys.readouterr().err
        assert mail.outbox == [] and notices(cert) == {}
        world.alice.email = "alice@example.com"
        world.alice.save()
        run()
    assert len(mail.outbox) == 1 and notices(cert) == {60: "covered", 30: "sent"}


class RefusingBackend(EmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"alice@example.com": (550, b"mailbox unavailable")})


class UnreachableBackend(EmailBackend):
    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")


def test_a_refused_mail_is_recorded_as_failed_and_retried(world: World, cert, settings) -> None:
    settings.EMAIL_BACKEND = "tests.expiry.test_notify.RefusingBackend"
    with at(END - timedelta(days=50)):
        with pytest.raises(CommandError, match="1 expiry notice could not be sent"):
            run()
        assert notices(cert) == {60: "failed"}
        assert AuditEntry.objects.filter(action="expiry-notification-failed").count() == 1
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        run()
        run()
    assert len(mail.outbox) == 1 and notices(cert) == {60: "sent"}


def test_an_unreachable_mail_server_records_nothing(world: World, cert, settings) -> None:
    settings.EMAIL_BACKEND = "tests.expiry.test_notify.UnreachableBackend"
    with at(END - timedelta(days=50)), pytest.raises(CommandError, match="The mail server cannot be reached"):
        run()
    assert notices(cert) == {}


def test_a_notice_interrupted_by_a_crash_is_not_sent_again(world: World, cert, capsys) -> None:
    # A run that recorded the notice and died before the mail was confirmed.
    ExpiryNotification.objects.create(
        certificate=cert, threshold_days=60, status="sending", created=END - timedelta(days=59, hours=2)
    )
    with at(END - timedelta(days=58)):
        run()
    assert mail.outbox == []
    assert "1 notice stopped before the mail was confirmed" in capsys.readouterr().err


def test_dry_run_sends_and_records_nothing(world: World, cert, capsys) -> None:
    with at(END - timedelta(days=20)):
        run(dry_run=True)
    assert mail.outbox == [] and not ExpiryNotification.objects.exists()
    assert "Would mail alice@example.com: acme/rec-2027 crossed 30 days" in capsys.readouterr().out


def test_thresholds_come_from_settings(world: World, cert, settings) -> None:
    settings.PORTAL_NOTIFY_DAYS = [90, 45]
    with at(END - timedelta(days=80)):
        run()
    assert notices(cert) == {90: "sent"}
