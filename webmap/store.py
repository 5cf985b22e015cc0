"""Where the web tier keeps the latest public payload of each station (and only the latest: P2).

Two implementations of one small interface:

- :class:`MemoryLatestStore` for a single web process (the embedded default);
- :class:`RedisLatestStore` for several web processes behind a load balancer, where the
  aggregator (or any one web process) writes and every process reads.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

LATEST_KEY_PREFIX = "crowdmap:latest:"


class LatestFrameStore(Protocol):
    """The latest public payload per station; older payloads are never kept."""

    def put(self, station_id: str, payload: dict[str, Any]) -> None:
        """Replace the station's latest payload."""

    def get(self, station_id: str) -> dict[str, Any] | None:
        """The station's latest payload, or ``None`` before the first frame."""


class MemoryLatestStore:
    """Latest payloads in this process's memory."""

    def __init__(self) -> None:
        self._latest: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def put(self, station_id: str, payload: dict[str, Any]) -> None:
        """Replace the station's latest payload."""
        with self._lock:
            self._latest[station_id] = payload

    def get(self, station_id: str) -> dict[str, Any] | None:
        """The station's latest payload, or ``None``."""
        with self._lock:
            return self._latest.get(station_id)


class RedisLatestStore:
    """Latest payloads in Redis, one key per station, expiring so a dead feed leaves nothing behind.

    Args:
        client: A ``redis.Redis`` client.
        ttl_s: Seconds a payload stays readable after it was written.
    """

    def __init__(self, client: Any, *, ttl_s: int = 3600) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, got {ttl_s}")
        self._client = client
        self._ttl_s = ttl_s

    def put(self, station_id: str, payload: dict[str, Any]) -> None:
        """Replace the station's latest payload (one SET, with expiry)."""
        data = json.dumps(payload, separators=(",", ":"), allow_nan=False)
        self._client.set(LATEST_KEY_PREFIX + station_id, data, ex=self._ttl_s)

    def get(self, station_id: str) -> dict[str, Any] | None:
        """The station's latest payload, or ``None`` if none or expired."""
        data = self._client.get(LATEST_KEY_PREFIX + station_id)
        return None if data is None else json.loads(data)
