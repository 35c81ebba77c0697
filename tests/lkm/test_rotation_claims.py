"""Scheduled rotation on several nodes at once: each run claims a due schedule by moving it on from the value it
read, and only one claim succeeds, so a run that read the schedule before another node rotated makes nothing."""

from lkm import rotation
from lkm.models import Keypair, Period
from lkm.rotation import rotate_due, set_period
from portal.audit.log import COMMAND
from tests.conftest import World


def test_a_run_that_read_the_schedule_before_another_node_rotated_makes_nothing(world: World, monkeypatch) -> None:
    set_period(world.acme, Period.DAILY, by=COMMAND)
    set_period(world.globex, Period.DAILY, by=COMMAND)
    claim = rotation._claim
    other_node: list[rotation.Rotated] = []

    def let_the_other_node_rotate_first(due, now):
        """This run has read both schedules; another node reads, claims and rotates them before it claims."""
        monkeypatch.setattr(rotation, "_claim", claim)
        other_node.extend(rotate_due(by=COMMAND))
        return claim(due, now)

    monkeypatch.setattr(rotation, "_claim", let_the_other_node_rotate_first)
    this_node = rotate_due(by=COMMAND)

    assert this_node == []
    assert sorted(done.tenant_slug for done in other_node if done.keypair) == ["acme", "globex"]
    assert Keypair.objects.filter(tenant=world.acme).count() == 1
    assert Keypair.objects.filter(tenant=world.globex).count() == 1
