"""The expiry pages' tests: one fleet of certificates at one moment."""

from datetime import timedelta

import pytest
import time_machine

from tests.conftest import World
from tests.expiry.pages import NOW
from tests.factories import assign_to_ivr, assign_to_screen_recording, make_certificate


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def fleet(world: World, frozen):
    """One acme certificate per status, an archived one, and two in globex."""
    day = timedelta(days=1)
    certs = {
        "gone": make_certificate(world.acme, "gone", not_after=NOW - 3 * day),
        "gone-assigned": make_certificate(world.acme, "gone-assigned", not_after=NOW - 40 * day),
        "soon": make_certificate(world.acme, "soon", not_after=NOW + 10 * day),
        "month2": make_certificate(world.acme, "month2", not_after=NOW + 45 * day),
        "month3": make_certificate(world.acme, "month3", not_after=NOW + 80 * day),
        "later": make_certificate(world.acme, "later", not_after=NOW + 400 * day),
        "future": make_certificate(world.acme, "future", not_before=NOW + 5 * day, not_after=NOW + 500 * day),
        "archived": make_certificate(world.acme, "archived", not_after=NOW - 5 * day, archived=True),
        "globex-gone": make_certificate(world.globex, "globex-gone", not_after=NOW - 1 * day),
        "globex-soon": make_certificate(world.globex, "globex-soon", not_after=NOW + 20 * day),
    }
    assign_to_ivr(certs["gone-assigned"])
    assign_to_screen_recording(certs["soon"])
    return certs
