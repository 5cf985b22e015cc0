"""Alert acknowledgements shared by every web process of an installation.

Each web process keeps its own :class:`webmap.alerts.AlertBook`, fed by the same frames, so all
of them hold the same alerts under the same ids; an acknowledgement, though, is made through one
process. It is written here, and every process takes it over before it shows or sends an alert.

- :class:`MemoryAckStore` for a single web process;
- :class:`RedisAckStore` (one hash per station) when web processes share a Redis message queue.

Acknowledgements older than ``keep_s`` are forgotten: by then the alert has long left every
book (they keep the last 200).
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

ACKS_KEY_PREFIX = "crowdmap:alert-acks:"
DEFAULT_KEEP_S = 2 * 86400


class AckStore(Protocol):
    """Acknowledgements per station: ``{alert_id: (user, acknowledged_at)}``."""

    def put(self, station_id: str, alert_id: str, user: str, at_s: float) -> None:
        """Record that ``user`` acknowledged the alert at ``at_s`` (unix seconds)."""

    def get(self, station_id: str) -> dict[str, tuple[str, float]]:
        """Every recorded acknowledgement of the station."""


class MemoryAckStore:
    """Acknowledgements in this process's memory."""

    def __init__(self, *, keep_s: float = DEFAULT_KEEP_S) -> None:
        self._acks: dict[str, dict[str, tuple[str, float]]] = {}
        self._keep_s = keep_s
        self._lock = threading.Lock()

    def put(self, station_id: str, alert_id: str, user: str, at_s: float) -> None:
        """Record one acknowledgement; forget those older than ``keep_s``."""
        with self._lock:
            acks = self._acks.setdefault(station_id, {})
            acks[alert_id] = (user, at_s)
            for old in [key for key, (_, acked_s) in acks.items() if acked_s < at_s - self._keep_s]:
                del acks[old]

    def get(self, station_id: str) -> dict[str, tuple[str, float]]:
        """Every acknowledgement of the station."""
        with self._lock:
            return dict(self._acks.get(station_id, {}))


class RedisAckStore:
    """Acknowledgements in a Redis hash per station, readable by every web process.

    Args:
        client: A ``redis.Redis`` client.
        keep_s: Seconds an acknowledgement is kept.
    """

    def __init__(self, client: Any, *, keep_s: float = DEFAULT_KEEP_S) -> None:
        if keep_s <= 0:
            raise ValueError(f"keep_s must be positive, got {keep_s}")
        self._client = client
        self._keep_s = keep_s

    def put(self, station_id: str, alert_id: str, user: str, at_s: float) -> None:
        """Record one acknowledgement (HSET), then drop the station's ones older than ``keep_s``."""
        key = ACKS_KEY_PREFIX + station_id
        self._client.hset(key, alert_id, json.dumps({"by": user, "at": at_s}))
        stale = [
            field
            for field, (_, acked_s) in self._decode(self._client.hgetall(key)).items()
            if acked_s < at_s - self._keep_s
        ]
        if stale:
            self._client.hdel(key, *stale)
        self._client.expire(key, int(self._keep_s))

    def get(self, station_id: str) -> dict[str, tuple[str, float]]:
        """Every acknowledgement of the station (one HGETALL)."""
        return self._decode(self._client.hgetall(ACKS_KEY_PREFIX + station_id))

    @staticmethod
    def _decode(raw: dict[Any, Any]) -> dict[str, tuple[str, float]]:
        acks = {}
        for field, value in raw.items():
            try:
                data = json.loads(value)
                acks[field.decode() if isinstance(field, bytes) else str(field)] = (str(data["by"]), float(data["at"]))
            except (ValueError, KeyError, TypeError):
                continue  # a field someone else wrote into our hash: not an acknowledgement
        return acks
