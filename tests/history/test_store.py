import csv
import io
import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from history.aggregate import ZoneMinute
from history.store import CSV_HEADER, open_store
from iconizer.types import IconFrame, ZoneState
from tests.history.conftest import AGGREGATE_FIELDS

T0 = 1_795_000_020  # a minute start (Mon 2026-11-16 ... UTC)


def frame(t, count, density, level=0, los="A", stale=False, station="toy", zone_id="a"):
    zone = ZoneState(zone_id, count, density, level, los, stale)
    return IconFrame(station, "hall", t, np.full((count, 2), 3.0), np.zeros(count, bool), (zone,))


def minute(minute_s, density, count=1.0, zone_id="a", live=60, stale=0):
    return ZoneMinute("toy", zone_id, minute_s, count, int(count), density, density, 0, "A", live, stale)


def test_record_series_roundtrip(store):
    frames = [
        frame(T0 + s, 2 + s % 3, 0.1 * (1 + s % 3), level=(s // 2) % 2, los="AB"[(s // 2) % 2])
        for s in range(0, 180, 2)
    ]
    written = store.record(frames)
    assert written == 2  # minutes T0 and T0+60 closed by later frames; T0+120 still open
    store.flush()
    rows = store.series("toy", "a", T0, T0 + 180)
    assert [r.minute_s for r in rows] == [T0, T0 + 60, T0 + 120]
    first = rows[0]
    counts = [2 + s % 3 for s in range(0, 60, 2)]
    assert first.count_mean == pytest.approx(np.mean(counts))
    assert first.count_peak == 4
    assert first.density_peak_per_m2 == pytest.approx(0.3)
    assert (int(first.level), first.los, first.live_samples) == (1, "B", 30)


def test_partial_minutes_merge(store):
    store.record([frame(T0 + 1, 2, 0.2), frame(T0 + 2, 2, 0.2)])
    store.flush()  # e.g. a restart in the middle of a minute
    store.record([frame(T0 + 30, 8, 0.8, level=2, los="D"), frame(T0 + 61, 0, 0.0)])
    (row,) = store.series("toy", "a", T0, T0 + 60)
    assert row.count_mean == pytest.approx((2 + 2 + 8) / 3)
    assert row.density_mean_per_m2 == pytest.approx((0.2 + 0.2 + 0.8) / 3)
    assert (row.count_peak, int(row.level), row.los, row.live_samples) == (8, 2, "D", 3)


def test_stale_minutes_are_kept_as_unknown(store):
    store.record([frame(T0 + 1, 0, 0.0, stale=True), frame(T0 + 61, 3, 0.3)])
    (row,) = store.series("toy", "a", T0, T0 + 60)
    assert row.stale and row.stale_samples == 1


def test_series_filters_station_zone_and_time(store):
    store.write([minute(T0, 0.1), minute(T0 + 60, 0.2), minute(T0, 0.3, zone_id="b")])
    store.write([ZoneMinute("other", "a", T0, 1.0, 1, 0.5, 0.5, 0, "A", 1, 0)])
    assert [r.density_mean_per_m2 for r in store.series("toy", "a", T0, T0 + 60)] == [0.1]
    assert [(r.zone_id, r.minute_s) for r in store.series("toy", None, T0, T0 + 120)] == [
        ("a", T0),
        ("a", T0 + 60),
        ("b", T0),
    ]


def test_usual_is_median_of_same_weekday_and_time(store):
    tz = ZoneInfo("Asia/Tokyo")
    at = datetime(2026, 11, 23, 8, 0, tzinfo=tz).timestamp()  # Monday 08:00
    week = 7 * 86400
    rows = []
    for k, density in zip(range(1, 6), [0.2, 0.4, 0.9, 0.3, 0.5], strict=True):
        for offset in (-300, 0, 240):  # three minutes inside the 15-minute slot
            rows.append(minute(int(at - k * week + offset), density, count=density * 10))
        rows.append(minute(int(at - k * week + 3600), 5.0))  # an hour later: other slot
    rows.append(minute(int(at - 86400), 5.0))  # the day before: other weekday
    store.write(rows)
    usual = store.usual("toy", "a", at, weeks=8)
    assert usual.weeks == 5
    assert usual.density_per_m2 == pytest.approx(0.4)
    assert usual.count == pytest.approx(4.0)
    assert store.usual("toy", "b", at) is None


def test_usual_ignores_stale_minutes(store):
    at = T0 + 7 * 86400
    store.write([minute(T0, 0.0, count=0.0, live=0, stale=60), minute(T0 + 60, 0.6)])
    assert store.usual("toy", "a", at + 60, weeks=1).density_per_m2 == pytest.approx(0.6)


def test_purge_keeps_only_retention_period(store):
    day = 86400
    now = T0 + 100 * day
    store.write([minute(T0 + d * day, 0.1) for d in (0, 5, 9, 10, 11, 50, 99)])
    deleted = store.purge(now, retention_days=90)
    assert deleted == 3
    assert [r.minute_s for r in store.series("toy", "a", 0, now)] == [T0 + d * day for d in (10, 11, 50, 99)]
    with pytest.raises(ValueError, match="retention_days"):
        store.purge(now, retention_days=0)


def test_export_csv(store):
    store.write([minute(T0, 0.25, count=2.5), minute(T0 + 60, 0.0, count=0.0, live=0, stale=60)])
    out = io.StringIO()
    assert store.export_csv(out, "toy", T0, T0 + 120) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[0]["minute_utc"] == datetime.fromtimestamp(T0, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (rows[0]["density_mean_per_m2"], rows[0]["level_en"], rows[0]["stale"]) == ("0.2500", "quiet", "0")
    assert rows[1]["stale"] == "1"


def test_table_holds_aggregates_only(tmp_path):
    store = open_store(str(tmp_path / "h.db"))
    store.record([frame(T0 + 1, 5, 0.5), frame(T0 + 61, 5, 0.5)])
    store.close()
    connection = sqlite3.connect(tmp_path / "h.db")
    tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    columns = [r[1] for r in connection.execute("PRAGMA table_info(zone_minutes)")]
    assert tables == ["zone_minutes"]
    # exactly the aggregate columns: nothing that could hold a position or an image
    assert tuple(columns) == AGGREGATE_FIELDS
    assert connection.execute("SELECT COUNT(*) FROM zone_minutes").fetchone() == (2,)


@pytest.mark.parametrize(
    ("url", "match"),
    [("mysql://db/x", "unknown history store URL scheme"), ("sqlite:///x.db", None)],
)
def test_open_store_urls(tmp_path, monkeypatch, url, match):
    monkeypatch.chdir(tmp_path)
    if match:
        with pytest.raises(ValueError, match=match):
            open_store(url)
    else:
        open_store(url).close()
        assert (tmp_path / "x.db").exists()


def test_bad_table_name(tmp_path):
    with pytest.raises(ValueError, match="table must match"):
        open_store(str(tmp_path / "h.db"), table="zone; DROP TABLE x")


def test_store_can_be_read_from_other_threads(tmp_path):
    import threading

    store = open_store(str(tmp_path / "h.db"))
    store.write([minute(T0 + 60 * k, 0.1) for k in range(10)])
    results, errors = [], []

    def read():
        try:
            results.append(len(store.series("toy", "a", T0, T0 + 600)))
        except Exception as error:  # collected and asserted below, so a failure names itself
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert errors == [] and results == [10, 10, 10, 10]
