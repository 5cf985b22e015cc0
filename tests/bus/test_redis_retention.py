"""Raw positions in Redis: seconds at most, never on disk, and a full Redis never silences the publisher.

Each test is written as what an attacker or a fault does, and what they must find.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from bus.redis_link import MESSAGE_FIELD, persistence_warnings
from bus.redis_publisher import RedisStreamPublisher
from tests.bus.conftest import URL, messages
from tests.harness.localredis import LocalRedis

pytestmark = pytest.mark.redis


def test_an_attacker_reading_redis_after_the_edges_stopped_finds_no_positions(client, stream) -> None:
    publisher = RedisStreamPublisher(URL, stream, maxlen=1000, retention_s=1.0)
    for raw in messages(30):
        publisher.publish(raw)
    assert publisher.flush(timeout_s=10.0)
    publisher.close()  # the producers stop
    assert client.xlen(stream) == 30
    assert 0 < client.pttl(stream) <= 1000
    time.sleep(1.5)
    assert client.exists(stream) == 0, "positions outlived their retention"


def test_while_edges_run_positions_older_than_the_retention_are_trimmed(client, stream) -> None:
    # The edges keep publishing (so the key never expires): only trimming by age can remove old entries.
    publisher = RedisStreamPublisher(URL, stream, maxlen=1000, retention_s=1.0)
    for raw in messages(20, "old"):
        publisher.publish(raw)
    assert publisher.flush(timeout_s=10.0)
    # One message every 0.7 s: each append trims what is over 1 s old by Redis's clock now, so only
    # the previous tick survives beside the newest (trimming by a stale clock would keep two).
    ticks = 4
    for tick in range(ticks):
        time.sleep(0.7)
        publisher.publish(f'{{"tick":{tick}}}'.encode())
        # flush returns once the one message is sent, not while it is still in flight.
        assert publisher.flush(timeout_s=10.0) and publisher.sent == 20 + tick + 1
    publisher.close()
    assert (publisher.sent, publisher.refused) == (20 + ticks, 0)
    entries = client.xrange(stream)
    assert not any(fields[MESSAGE_FIELD].startswith(b'{"old"') for _, fields in entries)
    stamps_ms = [int(entry_id.split(b"-")[0]) for entry_id, _ in entries]
    # Nothing older than the retention (plus a round trip) next to the newest entry.
    assert max(stamps_ms) - min(stamps_ms) <= 1000 + 150


def test_without_retention_the_stream_is_bounded_by_length_only(client, stream) -> None:
    # The frames stream (anonymous icon frames) keeps its length bound and no expiry.
    publisher = RedisStreamPublisher(URL, stream, maxlen=100)
    for raw in messages(10):
        publisher.publish(raw)
    assert publisher.flush(timeout_s=10.0)
    publisher.close()
    assert client.xlen(stream) == 10 and client.pttl(stream) == -1


@pytest.mark.parametrize("retention_s", [0.0, -1.0, 61.0])
def test_a_retention_outside_seconds_is_refused(retention_s: float) -> None:
    with pytest.raises(ValueError, match="retention_s"):
        RedisStreamPublisher(URL, "crowdmap:x:positions", maxlen=10, retention_s=retention_s)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[LocalRedis]:
    server = LocalRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def test_a_full_redis_refuses_appends_without_killing_the_publisher(private_redis) -> None:
    admin = redis.Redis.from_url(private_redis.url)
    admin.set("ballast", b"x" * 2_000_000)
    admin.config_set("maxmemory-policy", "noeviction")
    admin.config_set("maxmemory", "1mb")  # now below what is used: every write is refused (OOM)
    stream = "crowdmap:oom:positions"
    publisher = RedisStreamPublisher(private_redis.url, stream, maxlen=100, retention_s=5.0)
    for raw in messages(10):
        publisher.publish(raw)
    assert publisher.flush(timeout_s=10.0)
    assert publisher.refused == 10 and publisher.dropped == 10 and publisher.sent == 0
    assert admin.exists(stream) == 0
    admin.config_set("maxmemory", "0")  # memory back: the same publisher sends again
    for raw in messages(3, "after"):
        publisher.publish(raw)
    assert publisher.flush(timeout_s=10.0)
    assert publisher.sent == 3
    assert [fields[MESSAGE_FIELD] for _, fields in admin.xrange(stream)] == messages(3, "after")
    publisher.close()
    admin.close()


@pytest.mark.parametrize(
    ("options", "finding"),
    [
        ((), None),
        (("--save", "60 1"), "RDB snapshots"),
        (("--appendonly", "yes"), "append-only file"),
    ],
    ids=["nothing on disk", "snapshots", "append-only file"],
)
def test_persistence_is_found_where_raw_positions_would_reach_the_disk(tmp_path, options, finding) -> None:
    server = LocalRedis(tmp_path / "redis", extra_args=options)
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        warnings = persistence_warnings(client)
        client.close()
    finally:
        server.stop()
    if finding is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and finding in warnings[0]


def test_a_role_that_may_not_read_the_configuration_is_told_what_it_could_not_check(tmp_path) -> None:
    server = LocalRedis(tmp_path / "redis", extra_args=("--appendonly", "yes"))
    server.start()
    try:
        admin = redis.Redis.from_url(server.url)
        admin.acl_setuser("probe", enabled=True, passwords=["+probe-pw"], commands=["+info"], keys=["*"])
        admin.acl_setuser("blind", enabled=True, passwords=["+blind-pw"], commands=["+ping"], keys=["*"])
        probe = redis.Redis(host="127.0.0.1", port=server.port, username="probe", password="probe-pw")
        blind = redis.Redis(host="127.0.0.1", port=server.port, username="blind", password="blind-pw")
        # INFO still shows the append-only file, and that the save points could not be read.
        found = persistence_warnings(probe)
        assert any("append-only" in line for line in found) and len(found) == 1
        assert persistence_warnings(blind) == [
            'could not check Redis persistence (no permission for CONFIG GET or INFO): make sure save "" '
            "and appendonly no"
        ]
        admin.config_set("appendonly", "no")
        assert persistence_warnings(probe) == [
            'could not read Redis\'s save points (no permission for CONFIG GET): make sure save ""'
        ]
        for client in (probe, blind, admin):
            client.close()
    finally:
        server.stop()
