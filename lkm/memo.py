"""What one worker process remembers between requests, so a decrypt does not read and unseal the same credential
and keypair every time. Entries expire after a while and the store is bounded; nothing here is shared between
processes, so nothing here may decide anything another node must see at once (revocation is checked in the
database on every request, see authentication.py)."""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """At most ``size`` values, each for at most ``seconds``, the least recently used dropped first."""

    def __init__(self, size: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._size = size
        self._seconds = seconds
        self._clock = clock
        self._values: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn's threaded workers share the process

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._values.get(key)
            if found is None:
                return None
            if self._clock() - found[0] > self._seconds:
                del self._values[key]
                return None
            self._values.move_to_end(key)
            return found[1]

    def get_or_make(self, key: Hashable, make: Callable[[], V | None]) -> V | None:
        """The remembered value, else ``make()``'s, remembered unless it is None."""
        value = self.get(key)
        if value is None:
            value = make()
            if value is not None:
                self.put(key, value)
        return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._values[key] = (self._clock(), value)
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
