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
from redis.connection import parse_url
from redis.retry import Retry

from station.ids import ID_PATTERN, is_id

log = logging.getLogger(__name__)

MESSAGE_FIELD = b"m"
DEFAULT_POSITIONS_MAXLEN = 5000
# Raw positions are worth seconds: the iconizer drops them after its stale_after_s anyway. The
# positions stream keeps them no longer than this, and vanishes this long after its last append.
DEFAULT_POSITIONS_RETENTION_S = 5.0
MAX_RETENTION_S = 60.0
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


def entry_ms(entry_id: bytes | str) -> int:
    """The time Redis stamped into a stream entry id (``<ms>-<seq>``), unix milliseconds."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    milliseconds, _, _ = text.partition("-")
    return int(milliseconds)


def entry_age_s(entry_id: bytes | str, now_s: float) -> float:
    """Seconds between the time Redis stamped into a stream entry id and ``now_s`` (>= 0)."""
    return max(0.0, now_s - entry_ms(entry_id) / 1000.0)


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


def persistence_warnings(client: Any) -> list[str]:
    """What Redis keeps on disk, as warnings: raw positions must never reach a snapshot (PRIVACY.md P3).

    Reads ``CONFIG GET save`` / ``appendonly``; where the account may not read the configuration
    (an ACL role without ``+config|get``), falls back to ``INFO persistence`` (AOF on, or a
    snapshot written since Redis started), and says what it could not check.

    Returns:
        One line per finding; empty when Redis keeps nothing on disk.
    """
    warnings = []
    try:
        save = client.config_get("save").get("save", "")
        appendonly = client.config_get("appendonly").get("appendonly", "no")
    except redis.ResponseError:
        return _persistence_from_info(client)
    if str(save).strip():
        warnings.append(f'Redis writes RDB snapshots (save {str(save).strip()!r}): set save ""')
    if str(appendonly).strip().lower() == "yes":
        warnings.append("Redis writes an append-only file (appendonly yes): set appendonly no")
    return warnings


def _persistence_from_info(client: Any) -> list[str]:
    try:
        info = client.info("persistence")
    except redis.ResponseError:
        return ["could not check Redis persistence (no permission for CONFIG GET or INFO): make sure save \"\" "
                "and appendonly no"]  # fmt: skip
    warnings = []
    if int(info.get("aof_enabled", 0)):
        warnings.append("Redis writes an append-only file (aof_enabled): set appendonly no")
    if int(info.get("rdb_saves", 0)):
        warnings.append('Redis has written RDB snapshots since it started: set save ""')
    if not warnings:
        warnings.append('could not read Redis\'s save points (no permission for CONFIG GET): make sure save ""')
    return warnings


def warn_if_persistent(url: str, role: str) -> list[str]:
    """Log, loudly, every way the Redis at ``url`` keeps data on disk; returns the warnings."""
    client = connect(url)
    try:
        warnings = persistence_warnings(client)
    except REDIS_DOWN_ERRORS:
        warnings = ["could not check Redis persistence: Redis is not reachable now"]
    finally:
        client.close()
    for warning in warnings:
        log.warning("PRIVACY: %s keeps raw positions in Redis for seconds only, never on disk; %s "
                    "(docs/DEPLOYMENT.md, Redis)", role, warning)  # fmt: skip
    return warnings


def socketio_channel(url: str, station_ids: list[str] | tuple[str, ...], deployment: str = "") -> str:
    """The Flask-SocketIO message-queue channel of one deployment's web processes.

    Redis pub/sub channels are global to a server, whatever the database number: with a fixed
    channel name two deployments sharing a Redis (on different databases, say) would receive each
    other's frames. The name carries the deployment (``CROWDMAP_DEPLOYMENT``), the database of
    ``url`` and the stations served, so only web processes of the same deployment share it.

    Raises:
        ValueError: ``deployment`` or a station id is not a plain id, or no station is given.
    """
    if not station_ids:
        raise ValueError("a message-queue channel needs at least one station id")
    for name in (*station_ids, *([deployment] if deployment else [])):
        if not is_id(name):
            raise ValueError(f"expected ids matching {ID_PATTERN}, got {name!r}")
    db = int(parse_url(url).get("db", 0) or 0)
    return f"crowdmap:{deployment or '-'}:db{db}:{'+'.join(sorted(station_ids))}:socketio"
