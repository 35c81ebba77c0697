"""Master keys held in memory: base64 of 32 random bytes, from a file (``…_FILE``) or an environment variable.

The wrapped format is ``envelope.seal``'s, which is what tenant keys stored before other providers existed use.
"""

import base64
import binascii
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.views.decorators.debug import sensitive_variables

from .. import envelope
from .base import MasterKeyError, mac_key_id


@dataclass(frozen=True)
class MasterKey:
    key: bytes = field(repr=False)
    key_id: str
    # Where the key came from, for messages: "the master key file /etc/portal/master.key (…_FILE)" or a variable.
    source: str = field(default="master key", compare=False)
    from_file: bool = field(default=False, compare=False)

    @classmethod
    def from_bytes(cls, key: bytes, source: str = "master key") -> "MasterKey":
        if len(key) != envelope.KEY_BYTES:
            raise MasterKeyError(
                f"a master key must be {envelope.KEY_BYTES} bytes, base64-encoded; this one is {len(key)}"
            )
        return cls(key=key, key_id=mac_key_id(key), source=source)

    @classmethod
    def from_text(cls, text: str | bytes, source: str) -> "MasterKey":
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise MasterKeyError(f"{source} is not base64 text") from None
        try:
            return cls.from_bytes(raw, source)
        except MasterKeyError as exc:
            raise MasterKeyError(f"{source}: {exc}") from None

    @sensitive_variables("data_key")
    def wrap(self, data_key: bytes, aad: bytes) -> bytes:
        return envelope.seal(self.key, data_key, aad)

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        return envelope.open_sealed(self.key, wrapped, aad)

    def describe(self) -> str:
        where = self.source.removeprefix("the master key ") if self.from_file else f"environment variable {self.source}"
        return f"master key {self.key_id} from {where}"

    def probe(self) -> str:
        # The key is in memory: nothing can become unreachable after it was read.
        return f"master key {'file' if self.from_file else 'from the environment'}: ok"

    def close(self) -> None:
        pass


def read_master_key_file(path: str | Path, setting: str = "PORTAL_MASTER_KEY_FILE") -> MasterKey:
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        raise MasterKeyError(f"the master key file {path} ({setting}) does not exist") from None
    except OSError as exc:
        raise MasterKeyError(f"the master key file {path} ({setting}) cannot be read: {exc.strerror}") from None
    key = MasterKey.from_text(text, f"the master key file {path} ({setting})")
    return replace(key, from_file=True)


def master_key_from_environment(text: str, setting: str) -> MasterKey:
    return MasterKey.from_text(text, setting)
