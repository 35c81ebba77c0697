"""A cheap, bounded probe of the current master-key provider, for a health endpoint: one line naming the provider
kind and what failed. It names settings, labels and files, never a secret."""

import threading

from .base import MasterKeyError, one_line
from .loading import CURRENT, current_master_key, provider_kind

TIMEOUT_SECONDS = 3.0

_running = threading.Lock()  # one probe at a time: a hung token or KMS does not pile up threads


def _kind() -> str:
    try:
        return provider_kind(CURRENT) or "master key"
    except MasterKeyError:
        return "master key"


def _probe(answer: list[tuple[bool, str]]) -> None:
    try:
        answer.append((True, current_master_key().probe()))
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
