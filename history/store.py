"""The history store: per-zone, per-minute aggregates in SQLite (default) or PostgreSQL.

One table, one code path: the SQL below is written to run unchanged on both (``?`` parameters
become ``%s`` for psycopg; upserts use ``ON CONFLICT``, which SQLite has had since 3.24).
Only :class:`~history.aggregate.ZoneMinute` rows are stored: no positions, no images
(PRIVACY.md P3). Old rows go with :meth:`HistoryStore.purge`.

URLs accepted by :func:`open_store`:

- ``sqlite:///relative/file.db``, ``sqlite:////absolute/file.db``, ``sqlite:///:memory:``, or a
  plain file path: SQLite, one file, nothing to install.
- ``postgresql://user@host:port/database`` (or ``postgres://``): PostgreSQL through psycopg 3.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from history.aggregate import MinuteAggregator, ZoneMinute
from history.usual import Usual, past_week_slots, usual_from_weeks
from iconizer.types import CrowdingLevel, IconFrame

DEFAULT_TABLE = "zone_minutes"
DEFAULT_RETENTION_DAYS = 90
_TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# The table holds exactly the fields of a ZoneMinute, in order, and nothing else (PRIVACY.md P3).
_COLUMNS = tuple(f.name for f in fields(ZoneMinute))
CSV_HEADER = ("minute_utc", *_COLUMNS, "level_en", "stale")


def _greater(a: str, b: str) -> str:
    # GREATEST (PostgreSQL) and two-argument max (SQLite) differ; CASE is the same on both.
    return f"CASE WHEN {a} > {b} THEN {a} ELSE {b} END"


def _weighted(table: str, column: str) -> str:
    # Merge two partial aggregates of one minute (a flush, then more frames of the same minute).
    old_n, new_n = f"{table}.live_samples", "excluded.live_samples"
    return (
        f"CASE WHEN {old_n} + {new_n} = 0 THEN 0.0 "
        f"ELSE ({table}.{column} * {old_n} + excluded.{column} * {new_n}) / ({old_n} + {new_n}) END"
    )


class HistoryStore:
    """Per-zone minute aggregates over a DB-API connection (sqlite3 or psycopg).

    Use :func:`open_store` rather than this constructor.

    Args:
        connection: An open DB-API connection; the store owns and closes it.
        dialect: ``"sqlite"`` or ``"postgresql"``.
        table: Table name (lowercase letters, digits, underscores).
    """

    def __init__(self, connection: Any, dialect: str, table: str = DEFAULT_TABLE) -> None:
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"dialect must be 'sqlite' or 'postgresql', got {dialect!r}")
        if not _TABLE_NAME.match(table):
            raise ValueError(f"table must match {_TABLE_NAME.pattern}, got {table!r}")
        self._connection = connection
        self.dialect = dialect
        self.table = table
        self._aggregators: dict[str, MinuteAggregator] = {}
        # One connection, possibly used from several threads of a web server: serialise its use.
        self._lock = threading.RLock()
        self._create()

    # ---- plumbing --------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def _execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute(self._sql(sql), params)
            return cursor

    def _fetchall(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._execute(sql, params).fetchall()

    def _create(self) -> None:
        t = self.table
        self._execute(
            f"CREATE TABLE IF NOT EXISTS {t} ("
            " station_id VARCHAR(64) NOT NULL,"
            " zone_id VARCHAR(64) NOT NULL,"
            " minute_s BIGINT NOT NULL,"
            " count_mean DOUBLE PRECISION NOT NULL,"
            " count_peak INTEGER NOT NULL,"
            " density_mean_per_m2 DOUBLE PRECISION NOT NULL,"
            " density_peak_per_m2 DOUBLE PRECISION NOT NULL,"
            " level SMALLINT NOT NULL,"
            " los CHAR(1) NOT NULL,"
            " live_samples INTEGER NOT NULL,"
            " stale_samples INTEGER NOT NULL,"
            " PRIMARY KEY (station_id, zone_id, minute_s))"
        )
        # Purge deletes by time across all zones.
        self._execute(f"CREATE INDEX IF NOT EXISTS {t}_by_minute ON {t} (minute_s)")
        self._connection.commit()

    def close(self) -> None:
        """Write any open minute and close the connection."""
        self.flush()
        with self._lock:
            self._connection.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- writing ---------------------------------------------------------------------------

    def write(self, minutes: Iterable[ZoneMinute]) -> int:
        """Insert minute rows; a row for a minute already stored is merged into it.

        Returns:
            The number of rows given.
        """
        t = self.table
        rows = [
            (
                m.station_id,
                m.zone_id,
                m.minute_s,
                m.count_mean,
                m.count_peak,
                m.density_mean_per_m2,
                m.density_peak_per_m2,
                int(m.level),
                m.los,
                m.live_samples,
                m.stale_samples,
            )
            for m in minutes
        ]
        if not rows:
            return 0
        sql = (
            f"INSERT INTO {t} ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
            f"ON CONFLICT (station_id, zone_id, minute_s) DO UPDATE SET "
            f"count_mean = {_weighted(t, 'count_mean')}, "
            f"density_mean_per_m2 = {_weighted(t, 'density_mean_per_m2')}, "
            f"count_peak = {_greater(f'{t}.count_peak', 'excluded.count_peak')}, "
            f"density_peak_per_m2 = {_greater(f'{t}.density_peak_per_m2', 'excluded.density_peak_per_m2')}, "
            f"level = {_greater(f'{t}.level', 'excluded.level')}, "
            f"los = {_greater(f'{t}.los', 'excluded.los')}, "
            f"live_samples = {t}.live_samples + excluded.live_samples, "
            f"stale_samples = {t}.stale_samples + excluded.stale_samples"
        )
        with self._lock:
            cursor = self._connection.cursor()
            cursor.executemany(self._sql(sql), rows)
            self._connection.commit()
        return len(rows)

    def record(self, frames: Iterable[IconFrame]) -> int:
        """Aggregate icon frames (of one or more stations) and store every minute they close.

        The open minute is written by :meth:`flush` (and by :meth:`close`).

        Returns:
            The number of minute rows written.
        """
        with self._lock:
            closed: list[ZoneMinute] = []
            for frame in frames:
                aggregator = self._aggregators.setdefault(frame.station_id, MinuteAggregator(frame.station_id))
                closed.extend(aggregator.add([frame]))
            return self.write(closed)

    def flush(self) -> int:
        """Write the open minute of every station now (it is merged if more frames follow)."""
        with self._lock:
            return self.write([m for a in self._aggregators.values() for m in a.flush()])

    def purge(self, now_s: float, retention_days: int = DEFAULT_RETENTION_DAYS) -> int:
        """Delete every row older than ``retention_days`` before ``now_s``.

        Returns:
            The number of rows deleted.
        """
        if retention_days < 1:
            raise ValueError(f"retention_days must be >= 1, got {retention_days}")
        cutoff_s = int(now_s - retention_days * 86400)
        with self._lock:
            cursor = self._execute(f"DELETE FROM {self.table} WHERE minute_s < ?", (cutoff_s,))
            deleted = int(cursor.rowcount)
            self._connection.commit()
        return deleted

    # ---- reading ---------------------------------------------------------------------------

    def series(self, station_id: str, zone_id: str | None, since_s: float, until_s: float) -> list[ZoneMinute]:
        """Stored minutes with ``since_s <= minute_s < until_s``, by zone then time.

        Args:
            station_id: The station.
            zone_id: One zone, or None for every zone of the station.
            since_s: Start, unix seconds (inclusive).
            until_s: End, unix seconds (exclusive).
        """
        sql = f"SELECT {', '.join(_COLUMNS)} FROM {self.table} WHERE station_id = ? AND minute_s >= ? AND minute_s < ?"
        params: tuple[Any, ...] = (station_id, int(since_s), int(until_s))
        if zone_id is not None:
            sql += " AND zone_id = ?"
            params += (zone_id,)
        rows = self._fetchall(sql + " ORDER BY zone_id, minute_s", params)
        return [self._to_minute(row) for row in rows]

    @staticmethod
    def _to_minute(row: tuple[Any, ...]) -> ZoneMinute:
        (station, zone, minute, count_mean, count_peak, density_mean, density_peak, level, los, live, stale) = row
        return ZoneMinute(
            station,
            zone,
            int(minute),
            float(count_mean),
            int(count_peak),
            float(density_mean),
            float(density_peak),
            CrowdingLevel(int(level)),
            str(los).strip(),
            int(live),
            int(stale),
        )

    def usual(
        self,
        station_id: str,
        zone_id: str,
        at_s: float,
        *,
        weeks: int = 8,
        slot_s: float = 900.0,
        timezone: str = "Asia/Tokyo",
    ) -> Usual | None:
        """The zone's usual crowding at ``at_s``: median over past weeks of the slot's mean.

        For each of the last ``weeks`` weeks, the mean density and count over the ``slot_s``
        window centred on the same local weekday and time of day (live minutes only); then the
        median of those weekly means. None when no past week has data.
        """
        per_week = []
        for start_s, end_s in past_week_slots(at_s, weeks=weeks, slot_s=slot_s, timezone=timezone):
            (row,) = self._fetchall(
                f"SELECT AVG(density_mean_per_m2), AVG(count_mean) FROM {self.table} "
                "WHERE station_id = ? AND zone_id = ? AND minute_s >= ? AND minute_s < ? AND live_samples > 0",
                (station_id, zone_id, int(start_s), int(end_s)),
            )
            if row[0] is not None:
                per_week.append((float(row[0]), float(row[1])))
        return usual_from_weeks(per_week)

    def export_csv(
        self, out: TextIO, station_id: str, since_s: float, until_s: float, zone_id: str | None = None
    ) -> int:
        """Write the aggregates of a period as CSV (header :data:`CSV_HEADER`).

        Returns:
            The number of data rows written.
        """
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        minutes = self.series(station_id, zone_id, since_s, until_s)
        for m in minutes:
            writer.writerow(
                (
                    datetime.fromtimestamp(m.minute_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    m.station_id,
                    m.zone_id,
                    m.minute_s,
                    f"{m.count_mean:.3f}",
                    m.count_peak,
                    f"{m.density_mean_per_m2:.4f}",
                    f"{m.density_peak_per_m2:.4f}",
                    int(m.level),
                    m.los,
                    m.live_samples,
                    m.stale_samples,
                    m.level.label_en,
                    int(m.stale),
                )
            )
        return len(minutes)


def open_store(url: str, *, table: str = DEFAULT_TABLE, create: bool = True) -> HistoryStore:
    """Open (and create if needed) the history store at ``url`` (see the module docstring).

    Args:
        url: A SQLite path, ``sqlite:///...`` or ``postgresql://...``.
        table: The table of zone minutes.
        create: False to refuse a SQLite file that does not exist yet (a command that only reads or
            purges must not create an empty store because a path was mistyped).

    Raises:
        ValueError: for an unknown URL scheme.
        FileNotFoundError: ``create`` is False and the SQLite file does not exist.
    """
    if url.startswith(("postgresql://", "postgres://")):
        import psycopg  # only sites that use PostgreSQL need the driver loaded

        return HistoryStore(psycopg.connect(url), "postgresql", table)
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        path = path.removeprefix("/") if path not in ("", "/") else ":memory:"
    elif "://" in url:
        raise ValueError(f"unknown history store URL scheme in {url!r}; expected sqlite:/// or postgresql://")
    else:
        path = url
    if path != ":memory:" and not create and not Path(path).is_file():
        raise FileNotFoundError(f"no history store at {path}")
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # The store serialises access itself, so a web server's threads may share it.
    connection = sqlite3.connect(path, check_same_thread=False)
    if path != ":memory:":
        # Readers (the web tier) do not block the writer (the aggregator) in WAL mode.
        connection.execute("PRAGMA journal_mode=WAL")
    return HistoryStore(connection, "sqlite", table)
