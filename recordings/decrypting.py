"""Playing recordings back: each recording's envelope names the certificate it was encrypted for; the tenant's keystore
unwraps the session key with that certificate's private key, and the content is decrypted here with the session key
alone, streaming, as the Recording Crypto Server does.

``Decryptor`` is the one path: the page, ``decrypt_recordings`` and the key drill all go through it.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from keystore.api import (
    KeystoreEntry,
    KeystoreError,
    RecipientIndex,
    SessionKeyError,
    SessionKeyOpener,
    SessionKeyPadding,
)
from portal.accounts.models import Tenant
from portal.audit.log import Actor, record
from portal.web.text import visible

from .cms import BadPadding, Envelope, Recipient, RecordingError, open_envelope
from .naming import output_name
from .zips import ArchiveRefused

Write = Callable[[bytes | memoryview], object]  # a view is valid only during the call


class NoKeyFor(RecordingError):
    """No key of the tenant's keystore is a recipient of the envelope."""


class _KeyFailed(Exception):
    def __init__(self, entry: KeystoreEntry, message: str) -> None:
        super().__init__(message)
        self.entry = entry


@dataclass(frozen=True)
class Outcome:
    name: str  # the input's name: a relative path for members of a zip or a folder
    output_name: str
    size: int  # bytes read from the input
    alias: str | None  # the keystore entry that opened it, once found
    error: str  # "" when it decrypted, else the one-line reason
    plaintext_size: int = 0

    @property
    def ok(self) -> bool:
        return not self.error


def _padding(recipient: Recipient) -> SessionKeyPadding | None:
    try:
        return SessionKeyPadding(recipient.transport)
    except ValueError:  # a key transport the keystore does not do: another recipient may still open it
        return None


def _recipients_text(envelope: Envelope) -> str:
    described = [visible(recipient.describe()) for recipient in envelope.recipients]
    if len(described) == 1:
        return f"its recipient ({described[0]})"
    return "none of its recipients (" + "; ".join(described) + ")"


class Decryptor:
    """Decrypts recordings of one tenant for one actor. The tenant's certificates are read once, so a batch of a
    thousand recordings matches each envelope without a query."""

    def __init__(self, tenant: Tenant, *, by: Actor, source: str, audit: bool = True) -> None:
        self.tenant = tenant
        self.by = by
        self.source = source
        self.audit = audit
        self.index = RecipientIndex.of_tenant(tenant)
        self.opener = SessionKeyOpener(tenant)  # keeps each opened key inside the keystore for the whole batch

    @sensitive_variables("session_key")
    def decrypt(self, name: str, size: int, stream: BinaryIO, write: Write) -> Outcome:
        """Decrypt one recording, passing its plaintext to ``write`` in chunks, each valid only during that call (a
        buffer reused for the next). Never raises for bad input: a failed ``Outcome`` says why, and then the caller
        discards whatever ``write`` received (padding and tags are only checked at the end)."""
        entry: KeystoreEntry | None = None
        padding: SessionKeyPadding | None = None
        plaintext_size = 0
        try:
            envelope = open_envelope(stream)
            entry, session_key, padding = self._open(envelope)
            plaintext_size = envelope.decrypt(session_key, write)
            error = ""
        except BadPadding as exc:
            error = str(exc)
            if entry is not None and padding is SessionKeyPadding.PKCS1V15:
                # A wrong key under PKCS#1 v1.5 can give a session key of the right length: it is told apart only here.
                error = (
                    f"The key '{entry.alias}' does not open its session key, or the recording is damaged (its "
                    "decrypted content has bad padding)."
                )
        except (RecordingError, ArchiveRefused) as exc:  # a zip member may turn out damaged as it is read
            error = str(exc)
        except OSError as exc:
            error = f"The file could not be read: {exc.strerror or type(exc).__name__}."
        except _KeyFailed as exc:
            entry, error = exc.entry, str(exc)
        outcome = Outcome(
            name=name,
            output_name=output_name(name),
            size=size,
            alias=entry.alias if entry is not None else None,
            error=error,
            plaintext_size=plaintext_size,
        )
        if self.audit:
            self._record(outcome)
        return outcome

    def refused(self, name: str, size: int, error: str) -> Outcome:
        """An input refused before any recording in it was read (a zip archive that is not safe to open)."""
        outcome = Outcome(name=name, output_name=output_name(name), size=size, alias=None, error=error)
        if self.audit:
            self._record(outcome)
        return outcome

    def plaintext(self, stream: BinaryIO) -> Iterator[bytes]:
        """The plaintext of a recording that decrypted before (a batch's download), as it is produced; not audited
        again. ``RecordingError`` should it no longer decrypt."""
        envelope = open_envelope(stream)
        _, session_key, _ = self._open(envelope)
        yield from envelope.plaintext(session_key)

    @sensitive_variables("session_key")
    def _open(self, envelope: Envelope) -> tuple[KeystoreEntry, bytes, SessionKeyPadding]:
        """The entry that is a recipient of ``envelope``, the session key it unwraps, and how that key was wrapped."""
        failure: _KeyFailed | None = None
        for recipient in envelope.recipients:
            entry = self.index.entry_for(
                issuer=recipient.issuer, serial=recipient.serial, subject_key_id=recipient.subject_key_id
            )
            padding = _padding(recipient)
            if entry is None or padding is None:
                continue
            try:
                session_key = _unwrap(self.opener, entry, recipient, padding, envelope.key_length)
            except _KeyFailed as exc:  # another recipient of the same envelope may still open it
                failure = failure or exc
                continue
            return entry, session_key, padding
        if failure is not None:
            raise failure
        raise NoKeyFor(
            f"No key in this tenant's keystore opens it: {_recipients_text(envelope)} is not in the keystore."
        )

    def _record(self, outcome: Outcome) -> None:
        with transaction.atomic():
            record(
                "recording-decrypted" if outcome.ok else "recording-not-decrypted",
                by=self.by,
                tenant=self.tenant,
                details={
                    "file": outcome.name,
                    "size": outcome.size,
                    "alias": outcome.alias,
                    "outcome": "decrypted" if outcome.ok else outcome.error,
                    "via": self.source,
                },
            )


@sensitive_variables("session_key")
def _unwrap(
    opener: SessionKeyOpener, entry: KeystoreEntry, recipient: Recipient, padding: SessionKeyPadding, key_length: int
) -> bytes:
    try:
        session_key = opener.unwrap(entry, recipient.encrypted_key, padding)
    except SessionKeyError:
        raise _KeyFailed(entry, f"The key '{entry.alias}' does not open its session key.") from None
    except KeystoreError:
        raise _KeyFailed(
            entry, f"The private key of '{entry.alias}' cannot be opened: its stored copy is damaged or unreadable."
        ) from None
    if len(session_key) != key_length:
        raise _KeyFailed(entry, f"The key '{entry.alias}' does not open its session key.")
    return session_key
