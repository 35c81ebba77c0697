"""A restore's budget for the whole file: key-derivation rounds, items and key checks, and the ``Deriver`` that
derives within it, each distinct derivation once (a file whose items share salt and rounds costs one derivation for
all of them). Nothing is derived that the budget has not accepted."""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.views.decorators.debug import sensitive_variables

from .kdf import Derivation, DerivationError, Encryption, check, decrypt, derive


class OverBudget(DerivationError):
    """The file as a whole asks for more derivation work (or holds more items) than the budget allows."""


@dataclass(frozen=True)
class Budget:
    """How much one restore may ask for: key-derivation rounds for the whole file, and items (PKCS#12 bags)."""

    rounds: int
    items: int
    where: str  # "in the web page", "on the command line": for the refusal
    # Checking a private key (one RSA decryption) costs as the cube of its size: counted in checks of a 2048-bit key
    # (about 0.6 ms here), so 64 keys of 4096 bits cost 512 and one of 8192 bits 64.
    key_checks: int = 512


def key_check_cost(bits: int) -> int:
    return math.ceil((bits / 2048) ** 3)


# A web request: the portal's own backup costs 1,200,000 rounds (its MAC and its one PBKDF2 derivation, 600,000 each),
# a keytool file 10,000 per key; all of it, plus up to 128 bags and their key checks, is about one second here.
# Beyond: the command line.
WEB_RESTORE = Budget(rounds=1_500_000, items=128, where="in the web page")
# The command line: larger, still finite (about a minute here, and two for the key checks).
COMMAND_RESTORE = Budget(rounds=100_000_000, items=20_000, where="on the command line", key_checks=200_000)


class Deriver:
    """Derives keys from one password for one file: each distinct derivation once (a file whose items share salt and
    rounds costs one derivation for all of them), and never past the budget.

    ``reserve`` takes what the file will ask for and refuses, before any of it is derived, when the whole exceeds the
    budget.
    """

    @sensitive_variables("password")
    def __init__(self, password: str, budget: Budget, what: str) -> None:
        self._password = password
        self.budget = budget
        self.what = what
        self.reserved = 0
        self.key_checks = 0
        self.derived = 0  # derivations performed: what the file cost, for the operator
        self._planned: set[Derivation] = set()
        self._keys: dict[Derivation, bytes] = {}

    def __repr__(self) -> str:
        return f"<Deriver {self.reserved:,} of {self.budget.rounds:,} rounds>"

    def reserve(self, derivations: Iterable[Derivation], *, extra_rounds: int = 0) -> None:
        """Count what is about to be derived (a derivation already reserved costs nothing more) and ``extra_rounds``
        of other work; refuse, with nothing counted, when one derivation or the whole exceeds its limit."""
        new: set[Derivation] = set()  # a set: a file of thousands of salts is counted in linear time
        for derivation in derivations:
            check(derivation, self.what)
            if derivation not in self._planned:
                new.add(derivation)
        total = self.reserved + extra_rounds + sum(d.rounds for d in new)
        if total > self.budget.rounds:
            raise OverBudget(
                f"{self.what} asks for {total:,} key-derivation rounds in all; a restore {self.budget.where} "
                f"allows at most {self.budget.rounds:,}."
            )
        self.reserved = total
        self._planned.update(new)

    def count_key_check(self, bits: int) -> None:
        """Count checking one private key of ``bits``; refuse when the file's key checks exceed the budget."""
        self.key_checks += key_check_cost(bits)
        if self.key_checks > self.budget.key_checks:
            raise OverBudget(
                f"{self.what} holds private keys that take as long to check as {self.key_checks:,} keys of 2048 bits "
                f"or more; a restore {self.budget.where} allows at most {self.budget.key_checks:,}."
            )

    def count_items(self, count: int) -> None:
        if count > self.budget.items:
            raise OverBudget(
                f"{self.what} holds more than {self.budget.items:,} items (keys, certificates and other bags); a "
                f"restore {self.budget.where} allows at most {self.budget.items:,}."
            )

    @sensitive_variables("secret")
    def key(self, derivation: Derivation) -> bytes:
        """The derived bytes (key, then IV for PKCS#12 PBE and PBKDF1), derived at most once per file; only what
        ``reserve`` accepted."""
        if derivation not in self._planned:
            raise DerivationError("A key derivation was not reserved.")  # a programming error, not the file's
        if derivation not in self._keys:
            self._keys[derivation] = derive(derivation, self._password)
            self.derived += 1
        return self._keys[derivation]

    def decrypt(self, encryption: Encryption, ciphertext: bytes) -> bytes:
        """The plaintext, padding removed; ``DerivationError`` when the password does not open it."""
        return decrypt(encryption, self.key(encryption.derivation), ciphertext)
