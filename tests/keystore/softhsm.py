"""A SoftHSM2 token of the test's own: its configuration and token directory in the test's temporary folder (never
the system token directory), created with softhsm2-util as an operator would."""

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pkcs11
import pytest

from keystore import masterkey
from keystore.masterkeys.pkcs11 import loaded_module

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "4711-portal"
SO_PIN = "9999-security-officer"
LABEL = "portal"
KEY_LABEL = "master"

# CI runs as root and `make test` installs SoftHSM2 first; elsewhere the tests need it installed.
requires_softhsm = pytest.mark.skipif(
    not (Path(MODULE).is_file() and shutil.which("softhsm2-util")) and os.geteuid() != 0,
    reason="SoftHSM2 is not installed: apt-get install softhsm2 (make test does it as root)",
)


@dataclass
class Token:
    conf: Path
    label: str = LABEL

    def settings(self, prefix: str = "PORTAL_MASTER_KEY", *, pin: str = PIN, **changes: str) -> dict[str, str]:
        """Settings naming this token's key under ``prefix``; the current prefix also clears the test key."""
        values = {
            f"{prefix}_PKCS11_MODULE": MODULE,
            f"{prefix}_PKCS11_TOKEN_LABEL": self.label,
            f"{prefix}_PKCS11_PIN": pin,
            f"{prefix}_PKCS11_KEY_LABEL": KEY_LABEL,
        }
        values.update({f"{prefix}_PKCS11_{name.upper()}": value for name, value in changes.items()})
        if prefix == "PORTAL_MASTER_KEY":
            values.update(PORTAL_MASTER_KEY="", PORTAL_MASTER_KEY_FILE="")
        return values

    def session(self) -> pkcs11.Session:
        """A session of the test's own, outside the portal (whose sessions are closed first)."""
        masterkey.forget_master_keys()
        return loaded_module(MODULE).get_token(token_label=self.label).open(rw=True, user_pin=PIN)


def make_token(folder: Path, label: str = LABEL) -> Token:
    tokens = folder / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", SO_PIN],
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        check=True,
        capture_output=True,
    )
    return Token(conf=conf, label=label)


@pytest.fixture
def token(tmp_path, monkeypatch):
    made = make_token(tmp_path / "softhsm")
    monkeypatch.setenv("SOFTHSM2_CONF", str(made.conf))
    masterkey.forget_master_keys()  # the module reads SOFTHSM2_CONF when it is initialised again
    yield made
    masterkey.forget_master_keys()
