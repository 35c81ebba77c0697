"""notify_expiring on several nodes at once: each run claims a notice before its mail leaves, and only one claim
succeeds, so a run that planned a mail another run sent meanwhile sends nothing (a first mail and a retry alike)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError

from expiry.management.commands.notify_expiring import Command
from tests.conftest import World
from tests.factories import make_certificate

from .test_notify import CREATED, END, at, notices, run


@pytest.fixture
def cert(world: World):
    with at(CREATED):
        return make_certificate(world.acme, "rec-2027", not_after=END)


def another_run_sends_after_this_one_plans(monkeypatch) -> None:
    """This run plans; then, before it claims anything, another node's run plans, claims and sends."""
    planned = Command._plan

    def plan_then_let_the_other_node_finish(self, now, days):
        plans = planned(self, now, days)
        monkeypatch.setattr(Command, "_plan", planned)
        run()
        return plans

    monkeypatch.setattr(Command, "_plan", plan_then_let_the_other_node_finish)


def test_a_mail_the_other_node_sent_meanwhile_is_not_sent_again(world: World, cert, monkeypatch, capsys) -> None:
    another_run_sends_after_this_one_plans(monkeypatch)
    with at(END - timedelta(days=20)):
        run()
    assert len(mail.outbox) == 1
    assert notices(cert) == {30: "sent", 60: "covered"}
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["1 expiry notice sent.", "0 expiry notices sent."]  # the other node's, then this one's


def test_a_retry_the_other_node_sent_meanwhile_is_not_sent_again(world: World, cert, monkeypatch, settings) -> None:
    settings.EMAIL_BACKEND = "tests.expiry.test_notify.RefusingBackend"
    with at(END - timedelta(days=50)), pytest.raises(CommandError, match="could not be sent"):
        run()
    assert notices(cert) == {60: "failed"}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    another_run_sends_after_this_one_plans(monkeypatch)
    with at(END - timedelta(days=49)):
        run()
    assert len(mail.outbox) == 1 and notices(cert) == {60: "sent"}
