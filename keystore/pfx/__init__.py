"""PKCS#12 (RFC 7292) keystores with many entries, as Java keytool and OpenSSL read and write them.

The cryptography package writes one private key per PKCS#12 file, and the Recording Crypto Server reads one Java
keystore holding every key, so this module assembles the file itself from asn1crypto's RFC 7292 structures and
cryptography's primitives:

- each private key is a PKCS8ShroudedKeyBag encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), its friendlyName
  is the alias and its localKeyId pairs it with its certificate;
- the certificates are one CertBag each, in one SafeContents encrypted the same way;
- the integrity check is HMAC-SHA256 with its key from the PKCS#12 KDF (RFC 7292, Appendix B) over the password.

Reading accepts what keytool and OpenSSL write, including their legacy RC2/3DES files: asn1crypto walks the bags so
that every key is found, and restore_budget.py derives and decrypts within one budget for the whole file, each distinct
derivation once (OpenSSL's PKCS12_parse would derive for every bag, and again for each key read after it).
No Django models here: these functions take and return keys and bytes only.
"""

from .contents import MAX_PFX_BYTES, PfxContents, PfxEntry, PfxError, PfxKey
from .read import PfxTooLarge, read_pfx
from .write import build_pfx, encrypted_pkcs8_pem

__all__ = [
    "MAX_PFX_BYTES",
    "PfxContents",
    "PfxEntry",
    "PfxError",
    "PfxKey",
    "PfxTooLarge",
    "build_pfx",
    "encrypted_pkcs8_pem",
    "read_pfx",
]
