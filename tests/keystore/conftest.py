import pytest

from keystore import masterkey, pfx


@pytest.fixture(autouse=True)
def fast_pfx(monkeypatch):
    """Most tests are about behaviour, not key-derivation cost: fewer rounds keep them quick. Tests of the real
    defaults restore ``pfx.contents.ITERATIONS`` themselves."""
    monkeypatch.setattr(pfx.contents, "ITERATIONS", 2048)


@pytest.fixture(autouse=True)
def fresh_master_keys():
    masterkey.forget_master_keys()
    yield
    masterkey.forget_master_keys()
