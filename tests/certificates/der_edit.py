"""A tiny DER editor for tests: read a certificate into a tree of TLVs, change fields, write it back, re-sign.

Enough of DER for X.509: one-octet tags, definite lengths. A node may carry a wrong ``length`` on purpose, so
tests can write what no encoder would.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SEQUENCE, SET, INTEGER, BIT_STRING, OCTET_STRING, OID, BOOLEAN, NULL = 0x30, 0x31, 0x02, 0x03, 0x04, 0x06, 0x01, 0x05
UTF8_STRING, PRINTABLE_STRING, IA5_STRING, UTC_TIME, GENERALIZED_TIME = 0x0C, 0x13, 0x16, 0x17, 0x18

# TBSCertificate's fields, by position in a v3 certificate
VERSION, SERIAL, SIGNATURE, ISSUER, VALIDITY, SUBJECT, PUBLIC_KEY, EXTENSIONS = range(8)


@dataclass
class Tlv:
    tag: int
    value: bytes = b""  # a primitive's content
    children: list[Tlv] | None = None  # a constructed value's content
    length: int | None = None  # a wrong length to write instead of the true one

    def content(self) -> bytes:
        return self.value if self.children is None else b"".join(child.encode() for child in self.children)

    def encode(self) -> bytes:
        content = self.content()
        return bytes([self.tag]) + length_octets(len(content) if self.length is None else self.length) + content

    def walk(self) -> Iterator[tuple[Tlv | None, int, Tlv]]:
        """Every node below this one, as (parent, index, node)."""
        for index, child in enumerate(self.children or []):
            yield self, index, child
            yield from child.walk()

    def copy(self) -> Tlv:
        return copy.deepcopy(self)


def length_octets(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def read(data: bytes) -> Tlv:
    node, end = _read(data, 0)
    assert end == len(data), "trailing data after the DER element"
    return node


def _read(data: bytes, pos: int) -> tuple[Tlv, int]:
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    content = data[pos : pos + length]
    assert len(content) == length, "truncated DER"
    if not tag & 0x20:
        return Tlv(tag, content), pos + length
    children, at = [], 0
    while at < len(content):
        child, at = _read(content, at)
        children.append(child)
    return Tlv(tag, children=children), pos + length


def seq(*children: Tlv, tag: int = SEQUENCE) -> Tlv:
    return Tlv(tag, children=list(children))


def oid(dotted: str) -> Tlv:
    first, second, *rest = (int(part) for part in dotted.split("."))
    body = b"".join(_base128(arc) for arc in [first * 40 + second, *rest])
    return Tlv(OID, body)


def _base128(arc: int) -> bytes:
    groups = [arc & 0x7F]
    while arc := arc >> 7:
        groups.append(0x80 | (arc & 0x7F))
    return bytes(reversed(groups))


def integer(number: int) -> Tlv:
    return Tlv(INTEGER, number.to_bytes(number.bit_length() // 8 + 1, "big", signed=True))


def octets(node: Tlv | bytes) -> Tlv:
    return Tlv(OCTET_STRING, node if isinstance(node, bytes) else node.encode())


def extension(dotted: str, value: Tlv | bytes, *, critical: bool = False) -> Tlv:
    flag = [Tlv(BOOLEAN, b"\xff")] if critical else []
    return seq(oid(dotted), *flag, octets(value))


@dataclass
class Certificate:
    """A certificate as a tree: ``fields[SERIAL]`` and so on; ``der(key)`` writes it, re-signed with ``key``."""

    tree: Tlv

    @classmethod
    def of(cls, der: bytes) -> Certificate:
        return cls(read(der))

    @property
    def tbs(self) -> Tlv:
        assert self.tree.children
        return self.tree.children[0]

    @property
    def fields(self) -> list[Tlv]:
        """The TBSCertificate's fields: ``fields[SERIAL]`` and so on."""
        assert self.tbs.children is not None
        return self.tbs.children

    @property
    def extensions(self) -> list[Tlv]:
        """The Extension SEQUENCEs (v3 ``[3] EXPLICIT Extensions``), added if the certificate has none."""
        tbs = self.fields
        if tbs[-1].tag != 0xA3:
            tbs.append(Tlv(0xA3, children=[seq()]))
        wrapper = tbs[-1].children
        assert wrapper and wrapper[0].children is not None
        return wrapper[0].children

    def der(self, key: rsa.RSAPrivateKey | None = None) -> bytes:
        """The DER; with ``key``, the TBSCertificate signed anew (sha256WithRSAEncryption, as the samples are)."""
        children = self.tree.children
        assert children is not None
        if key is not None:
            children[2] = Tlv(BIT_STRING, b"\x00" + key.sign(self.tbs.encode(), padding.PKCS1v15(), hashes.SHA256()))
        return self.tree.encode()

    def copy(self) -> Certificate:
        return Certificate(read(self.tree.encode()))


# --- Random structural mutations ------------------------------------------------------------------------------------

_TAGS = (BOOLEAN, INTEGER, BIT_STRING, OCTET_STRING, NULL, OID, UTF8_STRING, PRINTABLE_STRING, IA5_STRING,
         UTC_TIME, GENERALIZED_TIME, SEQUENCE, SET, 0x80, 0x81, 0x82, 0x87, 0x88, 0xA0, 0xA3, 0x1E, 0x1F)  # fmt: skip


def mutate(node: Tlv, rng: random.Random) -> None:
    """One structural change somewhere under ``node``: drop, repeat or swap a field, change a tag or a length,
    truncate or replace content, empty or wrap a value. Leaves at least a tree that encodes."""
    nodes = list(node.walk())
    if not nodes:
        return
    parent, index, target = rng.choice(nodes)
    assert parent is not None and parent.children is not None
    siblings = parent.children
    kind = rng.choice(["drop", "repeat", "swap", "retag", "length", "truncate", "replace", "empty", "wrap", "grow"])
    if kind == "drop":
        del siblings[index]
    elif kind == "repeat":
        siblings.insert(index, target.copy())
    elif kind == "swap":
        other = rng.randrange(len(siblings))
        siblings[index], siblings[other] = siblings[other], siblings[index]
    elif kind == "retag":
        target.tag = rng.choice(_TAGS)
        if target.tag & 0x20 and target.children is None:
            target.children = []  # a primitive's content cannot be split into elements reliably
        elif not target.tag & 0x20 and target.children is not None:
            target.value, target.children = target.content(), None
    elif kind == "length":
        target.length = max(0, len(target.content()) + rng.choice([-3, -1, 1, 2, 200]))
    elif kind == "truncate" and target.children is None and target.value:
        target.value = target.value[: rng.randrange(len(target.value))]
    elif kind == "truncate" and target.children:
        del target.children[rng.randrange(len(target.children)) :]
    elif kind == "replace" and target.children is None:
        target.value = rng.randbytes(rng.choice([0, 1, 2, 4, 8, 33]))
    elif kind == "empty":
        target.value, target.children = b"", ([] if target.children is not None else None)
    elif kind == "wrap":
        siblings[index] = seq(target)
    elif kind == "grow" and target.children is None:
        target.value = target.value + rng.randbytes(rng.randint(1, 8))
