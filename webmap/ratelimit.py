"""Login rate limiting: a sliding window of failed attempts per client address and per user name."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_TRACKED_KEYS = 100_000


class LoginRateLimiter:
    """Refuses logins for a key (address or user name) after too many recent failures.

    Both the client address and the attempted name are keys, so neither one address guessing many
    names nor many addresses guessing one name get more than ``max_fails`` tries per window.

    Args:
        max_fails: Failures allowed per key within ``window_s``.
        window_s: Window length, seconds.
        clock: Monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(self, max_fails: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_fails < 1 or window_s <= 0:
            raise ValueError(f"need max_fails >= 1 and window_s > 0, got {max_fails} and {window_s}")
        self.max_fails = max_fails
        self.window_s = window_s
        self._clock = clock
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        fails = self._fails.get(key)
        if fails is None:
            return deque()
        while fails and fails[0] <= now - self.window_s:
            fails.popleft()
        if not fails:
            del self._fails[key]
        return fails

    def retry_after_s(self, *keys: str) -> float:
        """Seconds until any of ``keys`` may try again; 0 when all may try now."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            for key in keys:
                fails = self._recent(key, now)
                if len(fails) >= self.max_fails:
                    wait = max(wait, fails[0] + self.window_s - now)
            return wait

    def record_failure(self, *keys: str) -> None:
        """Count one failed attempt against every key."""
        with self._lock:
            now = self._clock()
            if len(self._fails) > MAX_TRACKED_KEYS:
                # Bounded memory under a flood of distinct keys: forget the oldest entries.
                for key in list(self._fails)[: MAX_TRACKED_KEYS // 10]:
                    del self._fails[key]
            for key in keys:
                self._recent(key, now)
                self._fails.setdefault(key, deque()).append(now)

    def reset(self, *keys: str) -> None:
        """Forget the failures of ``keys`` (after a successful login)."""
        with self._lock:
            for key in keys:
                self._fails.pop(key, None)
