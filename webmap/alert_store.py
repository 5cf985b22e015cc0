"""Where staff alerts are kept, so their history and acknowledgements survive a restart.

- :class:`SqliteAlertStore`: one SQLite file in the web tier's data folder (one web process);
- :class:`RedisAlertStore`: a Redis hash per station, shared by the web processes of a
  scaled-out installation (they all raise the same alerts under the same ids).

An alert holds a zone or camera id, a floor, levels, densities and times: aggregates, never
positions (PRIVACY.md P3). Alerts older than ``keep_s`` are dropped.
A stored acknowledgement is never undone by a later write of the same alert without one (two
processes may write one alert, only one of them saw the acknowledgement yet).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol

from webmap.alerts import Alert, alert_from_dict

logger = logging.getLogger(__name__)
ALERTS_KEY_PREFIX = "crowdmap:alerts:"
DEFAULT_KEEP_S = 90 * 86400
DEFAULT_RECENT = 200


class AlertStore(Protocol):
    """Alerts per station, by id."""

    def put(self, alert: Alert) -> None:
        """Record an alert (a new one, or a new state of a stored one)."""

    def recent(self, station_id: str, limit: int = DEFAULT_RECENT) -> list[Alert]:
        """The station's newest alerts, newest first."""


def _merge(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if old and old.get("acknowledged_by") and not new.get("acknowledged_by"):
        new = {**new, "acknowledged_by": old["acknowledged_by"], "acknowledged_at": old.get("acknowledged_at")}
    return new


def _decode(station_id: str, raw: Any) -> Alert | None:
    try:
        data = json.loads(raw)
        alert = alert_from_dict(data)
    except ValueError as error:
        logger.warning("ignored a stored alert of %s that does not read back: %s", station_id, error)
        return None
    return alert if alert.station_id == station_id else None


class SqliteAlertStore:
    """Alerts in one SQLite file.

    Args:
        path: The database file (created, with its folder, if missing).
        keep_s: Seconds an alert is kept after it was raised.
    """

    def __init__(self, path: str | Path, *, keep_s: float = DEFAULT_KEEP_S) -> None:
        if keep_s <= 0:
            raise ValueError(f"keep_s must be positive, got {keep_s}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._keep_s = keep_s
        self._lock = threading.Lock()
        # One connection behind a lock: web servers call from several threads or greenlets.
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS staff_alerts (station TEXT NOT NULL, id TEXT NOT NULL, "
                "raised_at REAL NOT NULL, record TEXT NOT NULL, PRIMARY KEY (station, id))"
            )

    def put(self, alert: Alert) -> None:
        """Record an alert; drop the station's alerts older than ``keep_s``."""
        new = alert.to_dict()
        with self._lock, self._db:
            row = self._db.execute(
                "SELECT record FROM staff_alerts WHERE station = ? AND id = ?", (alert.station_id, alert.alert_id)
            ).fetchone()
            record = _merge(json.loads(row[0]) if row else None, new)
            self._db.execute(
                "INSERT INTO staff_alerts (station, id, raised_at, record) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (station, id) DO UPDATE SET record = excluded.record",
                (alert.station_id, alert.alert_id, alert.raised_at, json.dumps(record)),
            )
            self._db.execute(
                "DELETE FROM staff_alerts WHERE station = ? AND raised_at < ?",
                (alert.station_id, alert.raised_at - self._keep_s),
            )

    def recent(self, station_id: str, limit: int = DEFAULT_RECENT) -> list[Alert]:
        """The station's newest alerts, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM staff_alerts WHERE station = ? ORDER BY raised_at DESC LIMIT ?",
                (station_id, limit),
            ).fetchall()
        return [alert for alert in (_decode(station_id, row[0]) for row in rows) if alert is not None]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class RedisAlertStore:
    """Alerts in a Redis hash per station (``crowdmap:alerts:<station>``), for every web process.

    Args:
        client: A ``redis.Redis`` client.
        keep_s: Seconds an alert is kept after it was raised.
    """

    def __init__(self, client: Any, *, keep_s: float = DEFAULT_KEEP_S) -> None:
        if keep_s <= 0:
            raise ValueError(f"keep_s must be positive, got {keep_s}")
        self._client = client
        self._keep_s = keep_s

    def put(self, alert: Alert) -> None:
        """Record an alert (HGET, merge the acknowledgement, HSET); old alerts go at most once a write."""
        key = ALERTS_KEY_PREFIX + alert.station_id
        old = self._client.hget(key, alert.alert_id)
        try:
            previous = json.loads(old) if old else None
        except ValueError:
            previous = None
        self._client.hset(key, alert.alert_id, json.dumps(_merge(previous, alert.to_dict())))
        self._client.expire(key, int(self._keep_s))
        stale = [a.alert_id for a in self._all(alert.station_id) if a.raised_at < alert.raised_at - self._keep_s]
        if stale:
            self._client.hdel(key, *stale)

    def _all(self, station_id: str) -> list[Alert]:
        raw = self._client.hgetall(ALERTS_KEY_PREFIX + station_id)
        return [alert for alert in (_decode(station_id, value) for value in raw.values()) if alert is not None]

    def recent(self, station_id: str, limit: int = DEFAULT_RECENT) -> list[Alert]:
        """The station's newest alerts, newest first (one HGETALL)."""
        return sorted(self._all(station_id), key=lambda a: a.raised_at, reverse=True)[:limit]
