"""A cheap, bounded probe of the current master-key provider, for a health endpoint: one line naming the provider
kind and what failed. It names settings, labels and files, never a secret."""

import threading
import time

from .base import MasterKeyError, MasterKeyProvider, one_line
from .loading import CURRENT, current_master_key, provider_kind

TIMEOUT_SECONDS = 3.0
# A healthy answer is reused this long: balancers probe every node every few seconds, and a KMS probe is three
# requests. A failure is never reused, so a provider back again is seen at the next probe.
KEEP_SECONDS = 10.0
_kept: tuple[MasterKeyProvider, float, str] | None = None
_clock = time.monotonic

_running = threading.Lock()  # one probe at a time: a hung token or KMS does not pile up threads


def _kind() -> str:
    try:
        return provider_kind(CURRENT) or "master key"
    except MasterKeyError:
        return "master key"


def _probe(answer: list[tuple[bool, str]]) -> None:
    global _kept
    try:
        provider = current_master_key()  # a new object once the settings change: the kept answer is then not used
        kept = _kept
        if kept is not None and kept[0] is provider and _clock() < kept[1]:
            answer.append((True, kept[2]))
            return
        line = provider.probe()
        _kept = (provider, _clock() + KEEP_SECONDS, line)
        answer.append((True, line))
    except MasterKeyError as exc:
        answer.append((False, one_line(str(exc))))
    except Exception as exc:  # a health probe reports, it does not raise
        answer.append((False, f"{_kind()}: {type(exc).__name__}"))
    finally:
        _running.release()


def master_key_health(timeout: float = TIMEOUT_SECONDS) -> tuple[bool, str]:
    if not _running.acquire(blocking=False):
        return False, f"{_kind()}: the previous probe has not answered yet"
    answer: list[tuple[bool, str]] = []
    thread = threading.Thread(target=_probe, args=(answer,), name="master-key-health", daemon=True)
    thread.start()
    thread.join(timeout)
    if not answer:
        return False, f"{_kind()}: no answer within {timeout:g} s"
    return answer[0]
