"""The tenant administrator asks for an assignment; a Genesys professional fulfils or declines it; the administrator
sees the outcome."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from ivr.models import AssignmentRequest, IvrAssignment, RequestStatus
from portal.audit.models import AuditEntry
from tests.conftest import World
from tests.factories import expired_certificate, make_certificate, open_request, record_profile


def _request(client, tenant_slug: str, profile, certificate_id, comment: str = ""):
    return client.post(
        reverse("ivr-request-create", args=[tenant_slug, profile.pk]),
        {"request-certificate": str(certificate_id), "request-comment": comment},
    )


def test_tenant_admin_requests_an_assignment(world: World, client_for) -> None:
    cert = make_certificate(world.acme, "acme-2026")
    profile = record_profile(world.acme)
    response = _request(client_for(world.alice), "acme", profile, cert.pk, "For the April renewal")
    assert response.status_code == 302
    made = AssignmentRequest.objects.get()
    assert (made.status, made.requested_by, made.certificate, made.comment) == (
        RequestStatus.OPEN,
        world.alice,
        cert,
        "For the April renewal",
    )
    assert not IvrAssignment.objects.exists()  # asking is not assigning
    entry = AuditEntry.objects.get(action="ivr-assignment-requested")
    assert entry.actor_username == "alice" and entry.details["alias"] == "acme-2026"


def test_request_for_an_expired_certificate_is_refused_at_once(world: World, client_for) -> None:
    cert = expired_certificate(world.acme, "old-2024")
    response = _request(client_for(world.alice), "acme", record_profile(world.acme), cert.pk)
    assert response.status_code == 400
    assert "expired on 2025-01-31 12:00 UTC" in response.content.decode()
    assert not AssignmentRequest.objects.exists()


def test_a_second_open_request_for_the_same_pair_is_refused(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "acme-2026")
    response = _request(client_for(world.alice), "acme", made.profile, made.certificate_id)
    assert response.status_code == 400
    assert "An open request to assign &#x27;acme-2026&#x27; to &#x27;record&#x27; already exists." in (
        response.content.decode()
    )
    assert AssignmentRequest.objects.count() == 1


def test_professional_sees_the_queue_and_fulfils(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "acme-2026", comment="please")
    pat = client_for(world.pat)
    listing = pat.get(reverse("ivr-request-list", args=["acme"])).content.decode()
    assert "acme-2026" in listing and "please" in listing and "Decline" in listing
    url = reverse("ivr-request-fulfil", args=["acme", made.pk])
    response = pat.post(url, {"comment": "Done, effective now", "next": "/t/acme/ivr-profiles/requests/"})
    assert response.status_code == 302 and response["Location"] == "/t/acme/ivr-profiles/requests/"
    made.refresh_from_db()
    assert made.status == RequestStatus.FULFILLED and made.decided_by == world.pat
    assert IvrAssignment.objects.get().certificate == made.certificate
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["ivr-certificate-assigned", "ivr-request-fulfilled"]
    # The tenant administrator sees the outcome on the profile page: who, when, comment.
    page = client_for(world.alice).get(reverse("ivr-profile-detail", args=["acme", made.profile.pk])).content.decode()
    assert "Assigned</span>" in page and "by pat" in page and "Done, effective now" in page


def test_fulfil_checks_the_certificate_again_and_keeps_the_request_open(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "acme-2026")
    assert made.certificate is not None
    expired_meanwhile = made.certificate.not_valid_after + timedelta(hours=1)
    with time_machine.travel(expired_meanwhile, tick=False):
        response = client_for(world.pat).post(reverse("ivr-request-fulfil", args=["acme", made.pk]), follow=True)
    assert "The request was not fulfilled" in response.content.decode()
    made.refresh_from_db()
    assert made.is_open and not IvrAssignment.objects.exists()
    assert not AuditEntry.objects.filter(action__in=["ivr-request-fulfilled", "ivr-certificate-assigned"]).exists()


def test_decline_needs_a_comment_and_the_admin_reads_it(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "acme-2026")
    pat = client_for(world.pat)
    url = reverse("ivr-request-decline", args=["acme", made.pk])
    response = pat.post(url, {"comment": "  "}, follow=True)
    assert "Say why the request is declined" in response.content.decode()
    made.refresh_from_db()
    assert made.is_open
    pat.post(url, {"comment": "Use the 2027 certificate instead"})
    made.refresh_from_db()
    assert made.status == RequestStatus.DECLINED and made.decision_comment == "Use the 2027 certificate instead"
    assert AuditEntry.objects.get(action="ivr-request-declined").details["comment"] == made.decision_comment
    page = client_for(world.alice).get(reverse("ivr-request-list", args=["acme"])).content.decode()
    assert "Declined" in page and "Use the 2027 certificate instead" in page and "by pat" in page
    assert not IvrAssignment.objects.exists()


def test_an_answered_request_cannot_be_answered_again(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "acme-2026")
    pat = client_for(world.pat)
    pat.post(reverse("ivr-request-decline", args=["acme", made.pk]), {"comment": "no"})
    response = pat.post(reverse("ivr-request-fulfil", args=["acme", made.pk]), follow=True)
    assert "answered meanwhile" in response.content.decode()
    assert not IvrAssignment.objects.exists()


def test_redirect_after_a_decision_stays_on_this_site(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "acme-2026")
    response = client_for(world.pat).post(
        reverse("ivr-request-decline", args=["acme", made.pk]), {"comment": "no", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("ivr-request-list", args=["acme"])


@pytest.mark.parametrize("who,status", [("pat", 403), ("sam", 403), ("charlie", 404), ("bob", 404)])
def test_requesting_requires_the_tenant_admin_role(world: World, client_for, who: str, status: int) -> None:
    cert = make_certificate(world.acme, "acme-2026")
    assert _request(client_for(getattr(world, who)), "acme", record_profile(world.acme), cert.pk).status_code == status
    assert not AssignmentRequest.objects.exists()


@pytest.mark.parametrize("who,status", [("alice", 403), ("sam", 403), ("charlie", 404), ("bob", 404)])
def test_answering_requires_the_professional_role(world: World, client_for, who: str, status: int) -> None:
    made = open_request(world.acme, world.alice, "acme-2026")
    client = client_for(getattr(world, who))
    assert client.post(reverse("ivr-request-fulfil", args=["acme", made.pk])).status_code == status
    assert client.post(reverse("ivr-request-decline", args=["acme", made.pk]), {"comment": "x"}).status_code == status
    made.refresh_from_db()
    assert made.is_open and not IvrAssignment.objects.exists()


def test_request_views_that_change_state_reject_get(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "acme-2026")
    assert client_for(world.alice).get(reverse("ivr-request-create", args=["acme", made.profile.pk])).status_code == 405
    for name in ("ivr-request-fulfil", "ivr-request-decline"):
        assert client_for(world.pat).get(reverse(name, args=["acme", made.pk])).status_code == 405


def test_answering_checks_ownership(world: World, client_for) -> None:
    foreign = open_request(world.globex, world.bob, "globex-cert")
    pat = client_for(world.pat)
    assert pat.post(reverse("ivr-request-fulfil", args=["acme", foreign.pk])).status_code == 404
    assert pat.post(reverse("ivr-request-decline", args=["acme", foreign.pk]), {"comment": "x"}).status_code == 404
    foreign.refresh_from_db()
    assert foreign.is_open


def test_request_list_is_read_only(world: World, client_for) -> None:
    assert client_for(world.alice).post(reverse("ivr-request-list", args=["acme"])).status_code == 405
    page = client_for(world.sam).get(reverse("ivr-request-list", args=["acme"]))
    assert page.status_code == 200 and b"Decline" not in page.content


def test_cross_tenant_queue_lists_open_requests_of_granted_tenants_only(world: World, client_for) -> None:
    mine = open_request(world.acme, world.alice, "acme-2026")
    answered = open_request(world.acme, world.alice, "acme-2025")
    answered.status = RequestStatus.DECLINED
    answered.save()
    open_request(world.globex, world.bob, "globex-cert")
    page = client_for(world.pat).get(reverse("ivr-request-queue"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "acme-2026" in html and "Acme Contact Center" in html
    assert "acme-2025" not in html and "globex-cert" not in html
    assert reverse("ivr-request-fulfil", args=["acme", mine.pk]) in html


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_cross_tenant_queue_requires_the_professional_role(world: World, client_for, who: str) -> None:
    assert client_for(getattr(world, who)).get(reverse("ivr-request-queue")).status_code == 403
    assert client_for(world.pat).post(reverse("ivr-request-queue")).status_code == 405


def test_an_overlong_comment_is_refused_and_changes_nothing(world: World, client_for) -> None:
    made = open_request(world.acme, world.alice, "acme-2026")
    url = reverse("ivr-request-decline", args=["acme", made.pk])
    response = client_for(world.pat).post(url, {"comment": "x" * 1001}, follow=True)
    assert "The comment is longer than 1000 characters; nothing was changed." in response.content.decode()
    made.refresh_from_db()
    assert made.is_open
