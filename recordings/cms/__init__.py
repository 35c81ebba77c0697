"""Reading encrypted recordings: a streaming reader and decryptor for CMS/PKCS#7 EnvelopedData and AuthEnvelopedData
(AES-CBC, AES-GCM) in DER, BER, PEM or S/MIME. Plain code over ``cryptography`` and ``asn1crypto``: the caller
unwraps the session key (the keystore does that) and hands it to ``Envelope.decrypt``."""

from .armor import ByteStream
from .envelope import Envelope, open_envelope
from .errors import BadPadding, DamagedRecording, NotAnEnvelope, RecordingError, UnsupportedEnvelope
from .recipients import Recipient

__all__ = [
    "BadPadding",
    "ByteStream",
    "DamagedRecording",
    "Envelope",
    "NotAnEnvelope",
    "Recipient",
    "RecordingError",
    "UnsupportedEnvelope",
    "open_envelope",
]
