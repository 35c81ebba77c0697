"""A master key inside a PKCS#11 token (an HSM, or SoftHSM2): a non-extractable AES-256 key that wraps and unwraps
the tenants' data keys with AES-GCM inside the token, so the master key itself never exists in this process.

A wrapped key is ``FORMAT (1 byte) || IV (12 bytes) || ciphertext || tag (16 bytes)``; the tenant's associated data
is GCM's AAD. The key's identifier is an AES-CMAC, computed by the token, of a fixed label: a different key under the
same label has another identifier.

Each process keeps one logged-in session per token, used under a lock (a PKCS#11 session runs one operation at a
time). A forked child (gunicorn workers) initialises the library again before its first use: handles inherited from
the parent are not valid in the child.
"""

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pkcs11
from django.views.decorators.debug import sensitive_variables
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass, exceptions
from pkcs11.mechanisms import GCMParams

from .. import envelope
from .base import ID_LABEL, ID_LENGTH, MasterKeyError, MasterKeyUnavailable, one_line

FORMAT = 2  # envelope.seal's blobs start with 1
IV_BYTES = 12
TAG_BYTES = 16

# Not extractable, sensitive, private: the token never hands the key out. SIGN is for the CMAC identifier only.
KEY_TEMPLATE = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.ENCRYPT: True,
    Attribute.DECRYPT: True,
    Attribute.SIGN: True,
    Attribute.VERIFY: False,
    Attribute.WRAP: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}

# What a GCM decryption that does not authenticate raises, depending on the token (SoftHSM2: GeneralError).
_NOT_AUTHENTIC = (
    exceptions.EncryptedDataInvalid,
    exceptions.EncryptedDataLenRange,
    exceptions.GeneralError,
    exceptions.FunctionFailed,
    exceptions.DataInvalid,
    exceptions.DataLenRange,
)
# Errors after which a new session may succeed (the token was reset, the session timed out).
_SESSION_LOST = (
    exceptions.SessionHandleInvalid,
    exceptions.SessionClosed,
    exceptions.UserNotLoggedIn,
    exceptions.ObjectHandleInvalid,
    exceptions.KeyHandleInvalid,
    exceptions.DeviceRemoved,
    exceptions.TokenNotPresent,
)

T = TypeVar("T")


class TokenKeyAbsent(MasterKeyUnavailable):
    """The token is reachable and the PIN right, but it holds no key under the label."""


@dataclass(frozen=True)
class TokenSettings:
    module: str
    token_label: str
    pin: str = field(repr=False)
    key_label: str
    prefix: str = "PORTAL_MASTER_KEY"  # names the settings in messages


class _Library:
    """The loaded module, initialised once per process."""

    _lock = threading.Lock()
    _loaded: dict[str, tuple[Any, int]] = {}

    @classmethod
    def get(cls, path: str, setting: str = "PORTAL_MASTER_KEY_PKCS11_MODULE") -> Any:
        if not Path(path).is_file():
            raise MasterKeyUnavailable(f"PKCS#11 module {path} ({setting}) does not exist or is not a file")
        with cls._lock:
            entry = cls._loaded.get(path)
            if entry is not None and entry[1] == os.getpid():
                return entry[0]
            try:
                lib = pkcs11.lib(path)
                if entry is not None:  # inherited from the parent process: start afresh in this one
                    with contextlib.suppress(exceptions.PKCS11Error):
                        lib.finalize()
                    lib.initialize()
            except exceptions.PKCS11Error as exc:
                raise MasterKeyUnavailable(f"PKCS#11 module {path} does not load: {one_line(str(exc))}") from None
            cls._loaded[path] = (lib, os.getpid())
            return lib

    @classmethod
    def reset(cls) -> None:
        """Finalise the modules this process initialised: the next use initialises them again and sees the tokens
        (and the module's configuration, e.g. SOFTHSM2_CONF) as they are then."""
        with cls._lock:
            for lib, pid in cls._loaded.values():
                if pid == os.getpid():
                    with contextlib.suppress(exceptions.PKCS11Error):
                        lib.finalize()
            cls._loaded.clear()


# A PIN the token refused is not tried again by this process until the settings change: tokens lock the user
# after a few wrong PINs, and checks and health probes would use them up.
_refused_pins: set[tuple[str, str, int]] = set()


def loaded_module(path: str) -> Any:
    """The module at ``path``, initialised in this process (and finalised again by ``forget_token_state``)."""
    return _Library.get(path)


def forget_token_state() -> None:
    """After the settings change: try refused PINs again, and see tokens created meanwhile. Sessions must be closed
    first (``Pkcs11MasterKey.close``)."""
    _refused_pins.clear()
    _Library.reset()


class Pkcs11MasterKey:
    def __init__(self, settings: TokenSettings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._session: Any = None
        self._key: Any = None
        self._pid = 0
        try:
            self._key_id = self._with_key(self._cmac_id)
        except MasterKeyError:
            self.close()
            raise

    # --- what a provider offers -------------------------------------------------------------------------------------

    @property
    def key_id(self) -> str:
        return self._key_id

    @sensitive_variables("data_key")
    def wrap(self, data_key: bytes, aad: bytes) -> bytes:
        iv = os.urandom(IV_BYTES)

        def encrypt(key: Any) -> bytes:
            return bytes(key.encrypt(data_key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(iv, aad)))

        return bytes([FORMAT]) + iv + self._with_key(encrypt)

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        if len(wrapped) < 1 + IV_BYTES + TAG_BYTES or wrapped[0] != FORMAT:
            raise envelope.TamperedError("wrapped key is truncated or not from a PKCS#11 token")
        iv, body = wrapped[1 : 1 + IV_BYTES], wrapped[1 + IV_BYTES :]

        def decrypt(key: Any) -> bytes:
            try:
                return bytes(key.decrypt(body, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(iv, aad)))
            except _NOT_AUTHENTIC:
                raise envelope.TamperedError("wrapped key does not authenticate for this key and owner") from None

        return self._with_key(decrypt)

    def describe(self) -> str:
        return f"PKCS#11 token '{self.settings.token_label}' key '{self.settings.key_label}'"

    def probe(self) -> str:
        """Finds the key again in the session and checks it is still the same key."""

        def same_key(key: Any) -> bool:
            self._key = None  # look it up afresh rather than trust the handle
            return self._cmac_id(self._find_key()) == self._key_id

        if not self._with_key(same_key):
            raise MasterKeyUnavailable(f"{self._name()}: key '{self.settings.key_label}' is another key now")
        return f"{self._name()}: ok"

    def close(self) -> None:
        with self._lock:
            session, self._session, self._key = self._session, None, None
            if session is not None and self._pid == os.getpid():
                with contextlib.suppress(exceptions.PKCS11Error):
                    session.close()

    # --- creating the key (init_master_key) -------------------------------------------------------------------------

    @classmethod
    def create(cls, settings: TokenSettings) -> tuple["Pkcs11MasterKey", bool]:
        """The provider for the key, generating the key in the token first when it is absent. True when created."""
        try:
            return cls(settings), False
        except TokenKeyAbsent:
            pass
        token = cls._token(_Library.get(settings.module, f"{settings.prefix}_PKCS11_MODULE"), settings)
        try:
            try:
                session = token.open(rw=True, user_pin=settings.pin)
            except exceptions.UserAlreadyLoggedIn:  # another session of this process logged in to the token
                session = token.open(rw=True)
            with session:
                session.generate_key(
                    KeyType.AES, 256, label=settings.key_label, store=True, template=dict(KEY_TEMPLATE)
                )
        except exceptions.PKCS11Error as exc:
            raise MasterKeyUnavailable(
                f"PKCS#11 token '{settings.token_label}': cannot create key '{settings.key_label}': {_reason(exc)}"
            ) from None
        return cls(settings), True

    # --- sessions ---------------------------------------------------------------------------------------------------

    def _name(self) -> str:
        return f"PKCS#11 token '{self.settings.token_label}'"

    @staticmethod
    def _token(lib: Any, settings: TokenSettings) -> Any:
        try:
            return lib.get_token(token_label=settings.token_label)
        except exceptions.NoSuchToken:
            raise MasterKeyUnavailable(
                f"PKCS#11 token '{settings.token_label}' ({settings.prefix}_PKCS11_TOKEN_LABEL) is not present in "
                f"module {settings.module}"
            ) from None
        except exceptions.PKCS11Error as exc:
            raise MasterKeyUnavailable(f"PKCS#11 token '{settings.token_label}': {_reason(exc)}") from None

    def _open(self) -> None:
        settings = self.settings
        refused = (settings.module, settings.token_label, hash(settings.pin))
        if refused in _refused_pins:
            raise MasterKeyUnavailable(
                f"{self._name()}: wrong PIN ({settings.prefix}_PKCS11_PIN); not tried again until the settings change"
            )
        token = self._token(_Library.get(settings.module, f"{settings.prefix}_PKCS11_MODULE"), settings)
        try:
            self._session = token.open(user_pin=settings.pin)
        except (exceptions.PinIncorrect, exceptions.PinInvalid, exceptions.PinLenRange):
            _refused_pins.add(refused)
            raise MasterKeyUnavailable(f"{self._name()}: wrong PIN ({settings.prefix}_PKCS11_PIN)") from None
        except exceptions.UserAlreadyLoggedIn:
            # Another provider object of this process is logged in to the same token: the login is shared.
            self._session = token.open()
        except exceptions.PKCS11Error as exc:
            raise MasterKeyUnavailable(f"{self._name()}: {_reason(exc)}") from None
        self._pid = os.getpid()

    def _find_key(self) -> Any:
        try:
            self._key = self._session.get_key(
                object_class=ObjectClass.SECRET_KEY, key_type=KeyType.AES, label=self.settings.key_label
            )
        except exceptions.NoSuchKey:
            raise TokenKeyAbsent(
                f"{self._name()} has no key '{self.settings.key_label}' ({self.settings.prefix}_PKCS11_KEY_LABEL); "
                "create it with 'manage.py init_master_key'"
            ) from None
        except exceptions.MultipleObjectsReturned:
            raise MasterKeyUnavailable(
                f"{self._name()} holds more than one key labelled '{self.settings.key_label}'"
            ) from None
        return self._key

    def _with_key(self, operation: Callable[[Any], T]) -> T:
        """Run one operation with the key, in this process's session; once more in a new session if the token lost
        the old one."""
        with self._lock:
            for attempt in (1, 2):
                if self._session is None or self._pid != os.getpid():
                    self._session, self._key = None, None
                    self._open()
                try:
                    key = self._key if self._key is not None else self._find_key()
                    return operation(key)
                except _SESSION_LOST as exc:
                    self._session, self._key = None, None
                    if attempt == 2:
                        raise MasterKeyUnavailable(f"{self._name()}: {_reason(exc)}") from None
                except exceptions.PKCS11Error as exc:
                    raise MasterKeyUnavailable(f"{self._name()}: {_reason(exc)}") from None
            raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _cmac_id(key: Any) -> str:
        return bytes(key.sign(ID_LABEL, mechanism=Mechanism.AES_CMAC)).hex()[:ID_LENGTH]


def _reason(exc: Exception) -> str:
    """A PKCS#11 error in words: the exception's class names the return value; some carry no message."""
    text = one_line(str(exc))
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def read_pin(pin: str, pin_file: str, prefix: str) -> str:
    if pin and pin_file:
        raise MasterKeyError(f"set {prefix}_PKCS11_PIN or {prefix}_PKCS11_PIN_FILE, not both")
    if pin:
        return pin
    if not pin_file:
        raise MasterKeyError(f"the PKCS#11 PIN is missing: set {prefix}_PKCS11_PIN or {prefix}_PKCS11_PIN_FILE")
    try:
        return Path(pin_file).read_text().strip()
    except OSError as exc:
        raise MasterKeyError(
            f"the PIN file {pin_file} ({prefix}_PKCS11_PIN_FILE) cannot be read: {exc.strerror}"
        ) from None
