"""Alert stores: history and acknowledgements survive a restart, in SQLite or in Redis."""

import pytest

from webmap.alert_store import RedisAlertStore, SqliteAlertStore
from webmap.alerts import AlertBook


def two_alerts(layout, wm):
    book = AlertBook("demo-station", layout.zones, alert_level=2)
    [first] = book.update([wm.make_zone("ticket-gates", 2, 0.8)], 100.0)
    [second] = book.update([wm.make_zone("stairs-landing", 3, 2.0)], 200.0)
    return book, first, second


def check_store(make, layout, wm):
    store = make()
    book, first, second = two_alerts(layout, wm)
    store.put(first)
    store.put(second)
    acked = book.acknowledge(first.alert_id, "sam", 150.0)
    store.put(acked)
    # A later write without the acknowledgement (another process had not seen it) keeps it.
    store.put(first)
    reopened = make()
    assert [a.alert_id for a in reopened.recent("demo-station")] == [second.alert_id, first.alert_id]
    assert reopened.recent("demo-station")[1].acknowledged_by == "sam"
    assert reopened.recent("demo-station", limit=1) == [second]
    assert reopened.recent("pets2009") == []


def test_sqlite_store_survives_a_restart(tmp_path, demo_layout, wm):
    check_store(lambda: SqliteAlertStore(tmp_path / "data" / "alerts.sqlite3"), demo_layout, wm)


def test_sqlite_store_drops_old_alerts(tmp_path, demo_layout, wm):
    store = SqliteAlertStore(tmp_path / "alerts.sqlite3", keep_s=50.0)
    _, first, second = two_alerts(demo_layout, wm)
    store.put(first)
    store.put(second)
    assert store.recent("demo-station") == [second]


def test_sqlite_store_ignores_a_record_that_does_not_read_back(tmp_path, demo_layout, wm, caplog):
    store = SqliteAlertStore(tmp_path / "alerts.sqlite3")
    _, first, _ = two_alerts(demo_layout, wm)
    store.put(first)
    store._db.execute("INSERT INTO staff_alerts VALUES ('demo-station', 'x', 1.0, '{\"id\": 1}')")
    assert store.recent("demo-station") == [first]
    assert "does not read back" in caplog.text


@pytest.mark.redis
def test_redis_store_survives_a_restart(client, demo_layout, wm):
    client.delete("crowdmap:alerts:demo-station")
    check_store(lambda: RedisAlertStore(client), demo_layout, wm)
    assert client.ttl("crowdmap:alerts:demo-station") > 0
    client.delete("crowdmap:alerts:demo-station")
