"""Server-side session records: a login is valid only while its record exists.

The session cookie is signed, so nobody can forge one, but a signed cookie alone stays valid
for as long as it is kept: logging out would end nothing for whoever captured it. So each login
creates a random token, kept here with the user's name, and the cookie carries the token. A
request (or a websocket check) is accepted only while the token's record exists: logging out
deletes it, and the record expires with the session lifetime. Ending all of a user's sessions
(removal, password change) goes through the account's session epoch (:mod:`accounts.users`),
which lives in the user database every process reads.

:class:`MemorySessions` serves one process; :class:`RedisSessions` is shared by every web process.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

REDIS_KEY_PREFIX = "crowdmap:session:"
MAX_SESSIONS = 100_000


def _digest(token: str) -> str:
    # Only a digest of the token is stored: reading the store does not yield usable cookies.
    return hashlib.sha256(token.encode()).hexdigest()  # str.encode: UTF-8


class SessionStore(Protocol):
    """Live login sessions."""

    def create(self, user: str, lifetime_s: float) -> str:
        """Start a session of ``user`` for ``lifetime_s``; returns its token."""

    def user_of(self, token: str) -> str | None:
        """The user of a live session, or ``None`` if it ended or never existed."""

    def end(self, token: str) -> None:
        """End one session (logout)."""


class MemorySessions:
    """Sessions in this process's memory.

    Args:
        clock: Monotonic clock, seconds.
        max_sessions: Records kept at most: a login past it ends the oldest session, which, every
            session living as long, is also the first to expire (memory stays bounded under a
            login flood).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_sessions: int = MAX_SESSIONS) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be >= 1, got {max_sessions}")
        self._live: dict[str, tuple[str, float]] = {}
        self._clock = clock
        self._max = max_sessions
        self._lock = threading.Lock()

    def create(self, user: str, lifetime_s: float) -> str:
        """Start a session; returns its token."""
        token = secrets.token_urlsafe()
        now_s = self._clock()
        with self._lock:
            while len(self._live) >= self._max:
                del self._live[next(iter(self._live))]  # the oldest: dicts keep insertion order
            self._live[_digest(token)] = (user, now_s + lifetime_s)
        return token

    def user_of(self, token: str) -> str | None:
        """The user of a live session, or ``None``."""
        with self._lock:
            record = self._live.get(_digest(token))
            if record is None:
                return None
            if record[1] <= self._clock():
                del self._live[_digest(token)]
                return None
            return record[0]

    def end(self, token: str) -> None:
        """End one session."""
        with self._lock:
            self._live.pop(_digest(token), None)


class RedisSessions:
    """Sessions in Redis: one key per session, expiring with it.

    Args:
        client: A ``redis.Redis`` client.
    """

    def __init__(self, client: Any) -> None:
        self._client = client

    def create(self, user: str, lifetime_s: float) -> str:
        """Start a session; returns its token."""
        token = secrets.token_urlsafe()
        self._client.set(REDIS_KEY_PREFIX + _digest(token), user.encode(), ex=max(1, int(lifetime_s)))
        return token

    def user_of(self, token: str) -> str | None:
        """The user of a live session, or ``None``."""
        value = self._client.get(REDIS_KEY_PREFIX + _digest(token))
        return None if value is None else value.decode()

    def end(self, token: str) -> None:
        """End one session."""
        self._client.delete(REDIS_KEY_PREFIX + _digest(token))
