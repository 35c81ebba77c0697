"""Renewing a certificate that is assigned on IVR profiles can ask the Genesys professional to assign the successor
there too: one request per profile, in the professional's queue with the renewal as its comment. The predecessor
stays assigned."""

from datetime import UTC, datetime, timedelta

from cryptography import x509
from django.urls import reverse
from django.utils import timezone

from certificates import followups
from certificates.generation import check_new_key
from certificates.models import Certificate
from certificates.renewal import renew as renew_certificate
from certificates.requests import accept_reply
from certificates.subject import SubjectFields
from ivr.models import AssignmentRequest, IvrAssignment, IvrProfile, RequestStatus
from portal.audit.log import Actor
from portal.audit.models import AuditEntry
from tests.certificates import pki
from tests.certificates.new_keys import form_data
from tests.conftest import World
from tests.factories import add_root, assign_to_ivr, make_certificate, record_profile, save_certificate

ENDS = datetime(2027, 6, 30, 9, 30, tzinfo=UTC)
COMMENT = "Renewal of 'rec-2027', which expires on 2027-06-30."


def renew(world: World, predecessor: Certificate, chosen: list[str]) -> tuple[Certificate, list[str]]:
    """alice renews a self-signed ``predecessor`` with the ``chosen`` follow-ups: the successor and the notes."""
    new = check_new_key(world.acme, subject=SubjectFields("rec-2037"), bits=2048, days=3650, alias="rec-2037")
    outcome = renew_certificate(predecessor, new, by=Actor(world.alice), follow_ups=chosen)
    assert outcome.certificate is not None and outcome.certificate.renews == predecessor
    return outcome.certificate, outcome.notes


def offer_of(predecessor: Certificate) -> str | None:
    return dict(followups.offered(predecessor)).get("ivr-requests")


def assigned_on_record_and_chat(world: World) -> Certificate:
    predecessor = make_certificate(world.acme, "rec-2027", not_after=ENDS)
    assign_to_ivr(predecessor)  # "record", DBID 1: the profile the tenant started with
    assign_to_ivr(predecessor, "chat", dbid=7)
    return predecessor


def test_offered_with_every_profile_holding_the_predecessor(world: World) -> None:
    predecessor = assigned_on_record_and_chat(world)
    assert offer_of(predecessor) == (
        "Ask the Genesys professional to assign the successor to IVR profile 'chat' (DBID 7), "
        "IVR profile 'record' (DBID 1)"
    )


def test_not_offered_for_a_certificate_on_no_profile(world: World) -> None:
    assign_to_ivr(make_certificate(world.acme, "other"))
    assert offer_of(make_certificate(world.acme, "rec-2027", key_index=1)) is None


def test_profile_names_are_shown_with_their_invisible_characters_escaped(world: World) -> None:
    predecessor = make_certificate(world.acme, "rec-2027")
    IvrProfile.objects.filter(tenant=world.acme, name="record").update(name="rec\u202eord")
    assign_to_ivr(predecessor, "rec\u202eord")
    assert (
        offer_of(predecessor)
        == "Ask the Genesys professional to assign the successor to IVR profile 'rec\\U202Eord' (DBID 1)"
    )


def test_each_profile_gets_a_request_with_the_renewal_as_comment(world: World) -> None:
    predecessor = assigned_on_record_and_chat(world)
    successor, notes = renew(world, predecessor, ["ivr-requests"])
    assert notes == [
        "Requested assignment to IVR profile 'chat' (DBID 7).",
        "Requested assignment to IVR profile 'record' (DBID 1).",
    ]
    made = AssignmentRequest.objects.order_by("profile__name")
    assert [(r.profile.name, r.certificate, r.comment, r.status, r.requested_by) for r in made] == [
        ("chat", successor, COMMENT, RequestStatus.OPEN, world.alice),
        ("record", successor, COMMENT, RequestStatus.OPEN, world.alice),
    ]
    # Asking is not assigning: the predecessor alone still encrypts recordings.
    assert {a.certificate for a in IvrAssignment.objects.all()} == {predecessor}
    entries = AuditEntry.objects.filter(action="ivr-assignment-requested")
    assert {(e.actor_username, e.details["alias"], e.details["comment"]) for e in entries} == {
        ("alice", "rec-2037", COMMENT)
    }


def test_the_professional_finds_the_requests_in_the_queue_and_fulfils_one(world: World, client_for) -> None:
    predecessor = make_certificate(world.acme, "rec-2027", not_after=ENDS)
    assign_to_ivr(predecessor)
    successor, _ = renew(world, predecessor, ["ivr-requests"])
    pat = client_for(world.pat)
    queue = pat.get(reverse("ivr-request-list", args=["acme"])).content.decode()
    assert "rec-2037" in queue and "Renewal of &#x27;rec-2027&#x27;, which expires on 2027-06-30." in queue
    made = AssignmentRequest.objects.get()
    pat.post(reverse("ivr-request-fulfil", args=["acme", made.pk]), {"comment": "Done"})
    assert {a.certificate for a in IvrAssignment.objects.filter(profile=record_profile(world.acme))} == {
        predecessor,
        successor,
    }


def test_an_open_request_already_there_becomes_a_note_and_the_others_are_made(world: World) -> None:
    predecessor = assigned_on_record_and_chat(world)
    successor = make_certificate(world.acme, "rec-2037", key_index=1)
    AssignmentRequest.objects.create(
        tenant=world.acme,
        profile=record_profile(world.acme),
        certificate=successor,
        certificate_alias=successor.alias,
        requested_by=world.alice,
    )
    notes = followups.run(["ivr-requests"], predecessor, successor, Actor(world.alice))
    assert notes == [
        "Requested assignment to IVR profile 'chat' (DBID 7).",
        "Not requested for IVR profile 'record' (DBID 1): "
        "An open request to assign 'rec-2037' to 'record' already exists.",
    ]
    assert AssignmentRequest.objects.filter(certificate=successor).count() == 2


def test_nothing_is_requested_unless_chosen(world: World) -> None:
    predecessor = assigned_on_record_and_chat(world)
    _, notes = renew(world, predecessor, [])
    assert notes == [] and not AssignmentRequest.objects.exists()


def test_another_tenants_profiles_are_never_asked(world: World) -> None:
    predecessor = make_certificate(world.acme, "rec-2027", not_after=ENDS)
    assign_to_ivr(predecessor)
    assign_to_ivr(make_certificate(world.globex, "rec-2027"))
    renew(world, predecessor, ["ivr-requests"])
    assert [(r.tenant, r.profile.tenant) for r in AssignmentRequest.objects.all()] == [(world.acme, world.acme)]


def renew_ca_issued(world: World, *, starts: datetime) -> tuple[Certificate, list[str]]:
    """alice renews a CA-issued certificate assigned on "record" (its key waits), then uploads the CA's
    certificate for it, valid from ``starts``: the successor and the notes of that upload."""
    ca_cert, ca_key = pki.make_ca("Acme Root CA")
    add_root(world.acme, ca_cert)
    cert, key = pki.issue(ca_cert, ca_key, "Acme Recording", not_after=ENDS)
    predecessor = save_certificate(world.acme, cert, key, alias="rec-2027")
    assign_to_ivr(predecessor)
    new = check_new_key(
        world.acme, subject=SubjectFields("Acme Recording"), bits=2048, alias="rec-2037", needs_days=False
    )
    waiting = renew_certificate(predecessor, new, by=Actor(world.alice), follow_ups=["ivr-requests"]).waiting
    assert waiting is not None
    assert not AssignmentRequest.objects.exists()  # nothing to assign while the key waits
    public_key = x509.load_der_x509_csr(bytes(waiting.csr_der)).public_key()
    reply = pki.build(pki.make_name("Acme Recording"), ca_cert.subject, public_key, ca_key, not_before=starts)
    outcome = accept_reply(world.acme, pki.pem(reply), by=Actor(world.alice))
    assert outcome.certificate is not None and outcome.certificate.renews == predecessor
    return outcome.certificate, outcome.notes


def test_a_ca_issued_predecessor_asks_when_the_cas_certificate_arrives(world: World) -> None:
    successor, notes = renew_ca_issued(world, starts=timezone.now() - timedelta(minutes=1))
    assert notes == ["Requested assignment to IVR profile 'record' (DBID 1)."]
    made = AssignmentRequest.objects.get()
    assert (made.certificate, made.comment, made.requested_by) == (successor, COMMENT, world.alice)


def test_a_successor_that_cannot_be_assigned_yet_is_a_note_not_a_failure(world: World) -> None:
    starts = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    successor, notes = renew_ca_issued(world, starts=starts)
    assert notes == [
        f"Not requested for IVR profile 'record' (DBID 1): 'rec-2037' is not valid until "
        f"{starts.astimezone(UTC):%Y-%m-%d %H:%M} UTC; it cannot be used for recording before then."
    ]
    assert successor.archived_at is None and not AssignmentRequest.objects.exists()


def test_the_renew_page_offers_the_requests_and_says_what_was_asked(world: World, client_for) -> None:
    predecessor = make_certificate(world.acme, "rec-2027", not_after=ENDS)
    assign_to_ivr(predecessor)
    alice = client_for(world.alice)
    url = reverse("certificate-renew", args=["acme", predecessor.pk])
    offer = "Ask the Genesys professional to assign the successor to IVR profile &#x27;record&#x27; (DBID 1)"
    assert offer in alice.get(url).content.decode()
    response = alice.post(url, form_data(alias="rec-2037", follow_ups=["ivr-requests"]), follow=True)
    assert "Requested assignment to IVR profile &#x27;record&#x27; (DBID 1)." in response.content.decode()
    made = AssignmentRequest.objects.get()
    assert (made.certificate, made.comment) == (Certificate.objects.get(renews=predecessor), COMMENT)
