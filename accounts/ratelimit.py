"""Login rate limiting: sliding windows of failed attempts, which no attacker can turn into a lockout.

A failed login is counted under keys that :class:`LoginRateLimiter` derives from the attempt:

- a client that is not a trusted device of the user name it tries: its address (every name it
  tries, ``max_fails`` per window: one address cannot guess many names) and the user name
  (from any address, ``user_max_fails`` per window: many addresses cannot guess one name);
- a trusted device of that user (a signed cookie left by an earlier successful login of the
  same name, :mod:`accounts.login`): that device only, ``max_fails`` per window.

So someone else's failures on a user name, from their own address, never block the right
password from another address, and a known device of the user is never blocked by anyone but
itself, even behind a proxy that gives every client one address. A success forgets the failures
on the user name and of the device.

The windows live in this process (:class:`MemoryWindows`) or in Redis (:class:`RedisWindows`),
where every web process counts against the same windows.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

MAX_TRACKED_KEYS = 100_000
CLOCK_SKEW_S = 60.0
REDIS_KEY_PREFIX = "crowdmap:login-fails:"


class FailureWindows(Protocol):
    """Timestamps of recent failures per key."""

    def recent(self, key: str, now_s: float, window_s: float) -> list[float]:
        """The failures of ``key`` within ``window_s`` before ``now_s``, oldest first."""

    def add(self, keys: Sequence[str], now_s: float, window_s: float) -> None:
        """Record one failure at ``now_s`` under every key."""

    def clear(self, keys: Sequence[str]) -> None:
        """Forget every failure of ``keys``."""


class MemoryWindows:
    """Failure windows in this process's memory, bounded in the number of keys.

    Args:
        max_keys: Keys kept at most; under a flood of distinct keys the oldest are forgotten.
    """

    def __init__(self, max_keys: int = MAX_TRACKED_KEYS) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be >= 1, got {max_keys}")
        self._fails: dict[str, deque[float]] = {}
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def _trim(self, key: str, now_s: float, window_s: float) -> deque[float]:
        fails = self._fails.get(key)
        if fails is None:
            return deque()
        # Equivalent mutant, excluded: a failure exactly window_s old asks for a wait of 0 s
        # whether it is dropped here or not, so "<=" and "<" behave alike.
        while fails and fails[0] <= now_s - window_s:  # pragma: no mutate
            fails.popleft()
        if not fails:
            del self._fails[key]
        return fails

    def recent(self, key: str, now_s: float, window_s: float) -> list[float]:
        """The failures of ``key`` within the window, oldest first."""
        with self._lock:
            return list(self._trim(key, now_s, window_s))

    def add(self, keys: Sequence[str], now_s: float, window_s: float) -> None:
        """Record one failure under every key.

        A key holds at most its limit of failures (a limited key is not checked, so records no
        more), and the window is trimmed when read.
        """
        with self._lock:
            for key in keys:
                while key not in self._fails and len(self._fails) >= self._max_keys:
                    del self._fails[next(iter(self._fails))]  # the oldest key: dicts keep insertion order
                self._fails.setdefault(key, deque()).append(now_s)

    def clear(self, keys: Sequence[str]) -> None:
        """Forget the failures of ``keys``."""
        with self._lock:
            for key in keys:
                self._fails.pop(key, None)


class RedisWindows:
    """Failure windows in Redis, shared by every process: one sorted set per key, expiring.

    Keys are hashed: attempted user names and addresses are attacker-chosen text.

    Args:
        client: A ``redis.Redis`` client.
        clock_skew_s: Extra lifetime of a key beyond the window (the web processes' clocks differ).
    """

    def __init__(self, client: Any, *, clock_skew_s: float = CLOCK_SKEW_S) -> None:
        self._client = client
        self._skew_s = clock_skew_s

    @staticmethod
    def redis_key(key: str) -> str:
        """The Redis key holding the failures of ``key``."""
        return REDIS_KEY_PREFIX + hashlib.sha256(key.encode()).hexdigest()

    def recent(self, key: str, now_s: float, window_s: float) -> list[float]:
        """The failures of ``key`` within the window, oldest first."""
        scores = self._client.zrangebyscore(self.redis_key(key), f"({now_s - window_s}", math.inf, withscores=True)
        return [score for _, score in scores]

    def add(self, keys: Sequence[str], now_s: float, window_s: float) -> None:
        """Record one failure under every key (one round trip)."""
        pipe = self._client.pipeline()
        for key in keys:
            name = self.redis_key(key)
            pipe.zremrangebyscore(name, -math.inf, now_s - window_s)
            pipe.zadd(name, {uuid.uuid4().hex: now_s})
            pipe.expire(name, int(window_s + self._skew_s))
        pipe.execute()

    def clear(self, keys: Sequence[str]) -> None:
        """Forget the failures of ``keys``."""
        if keys:
            self._client.delete(*[self.redis_key(key) for key in keys])


@dataclass(frozen=True)
class Attempt:
    """Who tries to log in.

    Attributes:
        address: The client address (after trusted-proxy handling).
        name: The user name tried, as typed.
        device: The id of a trusted-device cookie valid for ``name``, or ``None``.
    """

    address: str
    name: str
    device: str | None = None

    def keys(self) -> list[str]:
        """The keys this attempt is counted and checked under."""
        if self.device is not None:
            return [f"device:{self.device}"]
        return [f"addr:{self.address}", self._user_key()]

    def limits(self, max_fails: int, user_max_fails: int) -> list[tuple[str, int]]:
        """The ``(key, allowed failures)`` pairs of this attempt: the user name's limit is its own."""
        user_key = self._user_key()
        return [(key, user_max_fails if key == user_key else max_fails) for key in self.keys()]

    def _user_key(self) -> str:
        return f"user:{self.name.strip().lower()}"

    def forgotten_on_success(self) -> list[str]:
        """The keys a successful login clears: the user name's and the device's, never the address's.

        An address's failures stay: one valid account must not reset an address that guesses others.
        """
        keys = [self._user_key()]
        if self.device is not None:
            keys.append(f"device:{self.device}")
        return keys


class LoginRateLimiter:
    """Refuses logins for a while after too many recent failures (see the module docstring).

    Args:
        max_fails: Failures allowed per window from one address, or from one trusted device.
        window_s: Window length, seconds.
        user_max_fails: Failures allowed per window on one user name from untrusted clients;
            ``4 * max_fails`` by default.
        windows: Where failures are kept; this process's memory by default.
        clock: Clock in seconds (wall clock: Redis windows are shared between machines).
    """

    def __init__(
        self,
        max_fails: int,
        window_s: float,
        *,
        user_max_fails: int | None = None,
        windows: FailureWindows | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        user_max_fails = 4 * max_fails if user_max_fails is None else user_max_fails
        if max_fails < 1 or user_max_fails < 1 or window_s <= 0:
            raise ValueError(
                f"need max_fails >= 1, user_max_fails >= 1 and window_s > 0, got {max_fails}, {user_max_fails} "
                f"and {window_s}"
            )
        self.max_fails = max_fails
        self.user_max_fails = user_max_fails
        self.window_s = window_s
        self.windows: FailureWindows = MemoryWindows() if windows is None else windows
        self._clock = clock

    def retry_after_s(self, attempt: Attempt) -> float:
        """Seconds until ``attempt`` may be checked; 0 when it may be now."""
        now_s = self._clock()
        wait = 0.0
        for key, allowed in attempt.limits(self.max_fails, self.user_max_fails):
            fails = self.windows.recent(key, now_s, self.window_s)
            if len(fails) >= allowed:
                # The window lets the next attempt in once enough of the oldest failures left it.
                wait = max(wait, fails[len(fails) - allowed] + self.window_s - now_s)
        return wait

    def record_failure(self, attempt: Attempt) -> None:
        """Count one failed attempt under every key of ``attempt``."""
        self.windows.add(attempt.keys(), self._clock(), self.window_s)

    def record_success(self, attempt: Attempt) -> None:
        """Forget the user name's and the device's failures after a successful login."""
        self.windows.clear(attempt.forgotten_on_success())
