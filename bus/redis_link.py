"""The Redis link of the scale-out bus: stream names, the client, its health, what counts as "down".

Two streams per station, both trimmed on every append so Redis memory stays bounded:

- ``crowdmap:<station>:positions``  edges -> aggregator (positions and camera status), read by
  the aggregator through a consumer group, so a restarted aggregator resumes where it stopped;
- ``crowdmap:<station>:frames``     aggregator -> web processes (icon frames, camera status),
  read by every web process on its own (fan-out, no group).

Each stream entry holds one field, ``m``: the bytes of :mod:`bus.codec`, nothing else. The
publisher (:mod:`bus.redis_publisher`) and the subscribers (:mod:`bus.redis_subscribers`)
implement :class:`bus.embedded.Publisher` and :class:`bus.embedded.Subscriber`, so the edge
worker and the aggregator run unchanged on either bus.

Faults: no call of the bus raises because Redis is away. Clients fail fast (no hidden retries);
each endpoint reconnects with :class:`bus.backoff.Backoff` and records its health in a
:class:`LinkState`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

MESSAGE_FIELD = b"m"
DEFAULT_POSITIONS_MAXLEN = 5000
DEFAULT_FRAMES_MAXLEN = 120
DEFAULT_BUFFER_MESSAGES = 256
DEFAULT_MAX_AGE_S = 30.0
SOCKET_TIMEOUT_S = 5.0
# A blocking read longer than this would hold a stop request hostage; callers loop instead.
MAX_BLOCK_S = 1.0
# Errors that mean "Redis is not reachable right now", as opposed to a bug in a command.
REDIS_DOWN_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)

ClientFactory = Callable[[str], Any]


def positions_stream(station_id: str) -> str:
    """The stream carrying one station's positions and camera status from its edges."""
    return f"crowdmap:{station_id}:positions"


def frames_stream(station_id: str) -> str:
    """The stream carrying one station's icon frames and camera status to the web tier."""
    return f"crowdmap:{station_id}:frames"


def connect(url: str) -> redis.Redis:
    """A Redis client that fails fast: no hidden retries, so our own backoff decides.

    Raises:
        ValueError: the URL is not a ``redis://``, ``rediss://`` or ``unix://`` URL.
    """
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"expected a redis://, rediss:// or unix:// URL, got {url!r}")
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=2.0,
        retry=Retry(NoBackoff(), 0),
        decode_responses=False,
    )


def redact_url(url: str) -> str:
    """The URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0] if ":" in credentials else ""
    return f"{scheme}{sep}{user}:***@{host}"


def entry_age_s(entry_id: bytes | str, now_s: float) -> float:
    """Seconds between the time Redis stamped into a stream entry id and ``now_s`` (>= 0)."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return max(0.0, now_s - int(text.split("-", 1)[0]) / 1000.0)


@dataclass
class LinkState:
    """Connection health and counters of one bus endpoint, read by ``/metrics``.

    Attributes:
        connected: The last Redis call succeeded.
        reconnects: Times the link came back after being down.
        errors: Redis calls that failed because Redis was unreachable.
        last_error: The last such error, as text without credentials.
    """

    connected: bool = False
    reconnects: int = 0
    errors: int = 0
    last_error: str = ""
    _ever_connected: bool = field(default=False, repr=False)

    def up(self) -> None:
        """Record a successful Redis call."""
        if not self.connected and self._ever_connected:
            self.reconnects += 1
            log.info("redis link is back")
        self.connected = True
        self._ever_connected = True

    def down(self, error: BaseException) -> None:
        """Record a Redis call that failed because Redis was unreachable."""
        if self.connected:
            log.warning("redis link lost: %s", type(error).__name__)
        self.connected = False
        self.errors += 1
        self.last_error = f"{type(error).__name__}: {str(error)[:120]}"
