"""What goes wrong with a recording file: each exception's text is one complete sentence for the person who
uploaded it, and never holds key material or content."""


class RecordingError(Exception):
    """A recording that cannot be decrypted; ``str(exc)`` says why in one sentence."""


class NotAnEnvelope(RecordingError):
    """The file is not a PKCS#7/CMS EnvelopedData or AuthEnvelopedData (DER, PEM or S/MIME)."""


class UnsupportedEnvelope(RecordingError):
    """A well-formed envelope this reader cannot open: key agreement or password recipients, DES, detached content."""


class DamagedRecording(RecordingError):
    """Truncated or corrupted: a broken structure, bad CBC padding, a GCM tag that does not match, trailing data."""


class BadPadding(DamagedRecording):
    """The content's CBC padding is wrong: the content is damaged, or the session key is not the sender's. Under
    PKCS#1 v1.5 a wrong RSA key gives random bytes rather than an error (implicit rejection), and now and then as
    many as a session key has."""
