"""The Redis Streams bus against the real Redis on 127.0.0.1:6379 (``scripts/services.sh`` starts one)."""

from __future__ import annotations

import pytest

from bus.redis_link import MESSAGE_FIELD, entry_age_s, frames_stream, positions_stream, redact_url, socketio_channel
from bus.redis_publisher import RedisStreamPublisher
from bus.redis_subscribers import RedisGroupSubscriber, RedisStreamSubscriber
from tests.bus.conftest import URL, messages
from tests.harness.localredis import free_port

pytestmark = pytest.mark.redis


def drain(subscriber, expected: int, max_calls: int = 200) -> list[bytes]:
    """Receive until ``expected`` messages arrived or ``max_calls`` receives came back empty-handed."""
    got: list[bytes] = []
    for _ in range(max_calls):
        if len(got) == expected:
            break
        raw = subscriber.receive(timeout_s=0.05)
        if raw is not None:
            got.append(raw)
    return got


def test_stream_names_are_per_station():
    assert positions_stream("demo-station") == "crowdmap:demo-station:positions"
    assert frames_stream("demo-station") == "crowdmap:demo-station:frames"
    assert positions_stream("a") != positions_stream("b")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:hunter2@redis.internal:6379/0", "redis://:***@redis.internal:6379/0"),
        ("rediss://crowd:hunter2@redis.internal:6380", "rediss://crowd:***@redis.internal:6380"),
    ],
)
def test_urls_are_logged_without_passwords(url, expected):
    assert redact_url(url) == expected
    assert "hunter2" not in redact_url(url)


def test_entry_age_is_read_from_the_redis_stamp():
    assert entry_age_s(b"1700000000000-3", 1700000002.5) == pytest.approx(2.5)
    assert entry_age_s("1700000005000-0", 1700000002.5) == 0.0  # clocks a little apart: never negative


def test_published_messages_reach_the_group_in_order(stream):
    publisher = RedisStreamPublisher(URL, stream, maxlen=1000)
    subscriber = RedisGroupSubscriber(URL, stream, group="aggregator", consumer="a1")
    sent = messages(50)
    for raw in sent:
        assert publisher.publish(raw) is True
    assert publisher.flush(timeout_s=10.0)
    assert drain(subscriber, 50) == sent
    assert publisher.sent == 50 and publisher.dropped == 0
    assert subscriber.link.connected and subscriber.received == 50
    publisher.close()
    subscriber.close()


def test_the_stream_stays_bounded(client, stream):
    publisher = RedisStreamPublisher(URL, stream, maxlen=100, buffer_messages=5000)
    for raw in messages(3000):
        publisher.publish(raw)
    assert publisher.flush(timeout_s=20.0)
    publisher.close()
    # MAXLEN ~ trims whole radix-tree nodes (100 entries by default), so allow one node of slack.
    assert 100 <= client.xlen(stream) <= 200
    assert publisher.sent == 3000


def test_a_restarted_consumer_resumes_from_its_group(stream):
    publisher = RedisStreamPublisher(URL, stream, maxlen=1000)
    first = RedisGroupSubscriber(URL, stream, group="aggregator", consumer="a1", batch=3)
    assert first.receive(timeout_s=0.05) is None  # creates the group before anything is sent
    sent = messages(10)
    for raw in sent[:6]:
        publisher.publish(raw)
    assert publisher.flush(timeout_s=10.0)
    handled = drain(first, 4)
    # "Crashes" while handling message 3. Acknowledging the batch 0-2 happened when the batch
    # 3-5 was fetched; the batch 3-5 was never acknowledged.
    first.close()
    for raw in sent[6:]:
        publisher.publish(raw)  # arrive while no aggregator runs
    assert publisher.flush(timeout_s=10.0)

    second = RedisGroupSubscriber(URL, stream, group="aggregator", consumer="a1")
    resumed = drain(second, 7)
    assert handled == sent[:4]
    # The unacknowledged batch comes again, then everything that arrived meanwhile.
    assert resumed == sent[3:]
    assert second.redelivered == 3
    assert second.receive(timeout_s=0.05) is None
    publisher.close()
    second.close()


def test_every_fan_out_reader_gets_every_frame(stream):
    publisher = RedisStreamPublisher(URL, stream, maxlen=100)
    publisher.publish(b'{"old":1}')
    assert publisher.flush(timeout_s=10.0)
    readers = [RedisStreamSubscriber(URL, stream) for _ in range(3)]
    # A reader that starts between two frames shows the newest one at once.
    assert [reader.receive(timeout_s=0.5) for reader in readers] == [b'{"old":1}'] * 3
    sent = messages(20, "f")
    for raw in sent:
        publisher.publish(raw)
    assert publisher.flush(timeout_s=10.0)
    for reader in readers:
        assert drain(reader, 20) == sent
        reader.close()
    publisher.close()


@pytest.mark.parametrize(
    "fields",
    [
        {b"x": b"1"},
        {MESSAGE_FIELD: b"{}", b"image": b"\xff\xd8\xff\xe0"},
        {b"jpeg": b"\xff\xd8\xff\xe0" + bytes(1000)},
    ],
)
def test_entries_not_made_by_a_crowdmap_publisher_are_skipped_and_counted(client, stream, fields):
    group = RedisGroupSubscriber(URL, stream, group="aggregator", consumer="a1")
    assert group.receive(timeout_s=0.05) is None
    fan_out = RedisStreamSubscriber(URL, stream, start_with_latest=False)
    assert fan_out.receive(timeout_s=0.05) is None
    client.xadd(stream, fields)
    client.xadd(stream, {MESSAGE_FIELD: b'{"ok":1}'})
    assert drain(group, 1) == [b'{"ok":1}']
    assert drain(fan_out, 1) == [b'{"ok":1}']
    assert group.malformed == 1 and fan_out.malformed == 1
    assert group.receive(timeout_s=0.05) is None  # acknowledges everything, the odd entry included
    assert group.pending_count() == 0
    group.close()
    fan_out.close()


def test_with_redis_away_publishing_drops_oldest_in_bounded_memory():
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    publisher = RedisStreamPublisher(url, "crowdmap:nowhere:positions", maxlen=100, buffer_messages=32)
    for raw in messages(500):
        assert publisher.publish(raw) is True  # never raises, never blocks
    assert publisher.buffered <= 32
    assert not publisher.flush(timeout_s=0.3)
    assert publisher.sent == 0
    assert publisher.dropped + publisher.buffered == 500
    assert publisher.link.errors >= 1 and not publisher.link.connected
    publisher.close(timeout_s=0.2)
    assert publisher.dropped == 500
    assert publisher.publish(b"{}") is False  # closed


@pytest.mark.parametrize("reader", ["group", "fan_out"])
def test_with_redis_away_receiving_returns_nothing_and_counts_errors(reader):
    url = f"redis://127.0.0.1:{free_port()}/0"
    if reader == "group":
        subscriber = RedisGroupSubscriber(url, "crowdmap:nowhere:positions", group="aggregator", consumer="a1")
    else:
        subscriber = RedisStreamSubscriber(url, "crowdmap:nowhere:frames")
    assert [subscriber.receive(timeout_s=0.05) for _ in range(5)] == [None] * 5
    assert subscriber.link.errors >= 1 and not subscriber.link.connected
    if reader == "group":
        assert subscriber.pending_count() is None and subscriber.group_lag() is None
    subscriber.close()


def test_group_lag_counts_what_the_aggregator_has_not_read(stream):
    subscriber = RedisGroupSubscriber(URL, stream, group="aggregator", consumer="a1", batch=5)
    assert subscriber.receive(timeout_s=0.05) is None
    publisher = RedisStreamPublisher(URL, stream, maxlen=1000)
    for raw in messages(12):
        publisher.publish(raw)
    assert publisher.flush(timeout_s=10.0)
    assert subscriber.group_lag() == 12
    assert drain(subscriber, 5) == messages(12)[:5]
    assert subscriber.group_lag() == 7
    publisher.close()
    subscriber.close()


def test_the_message_queue_channel_is_per_deployment_database_and_stations():
    assert socketio_channel("redis://127.0.0.1:6379/0", ["demo-station"]) == "crowdmap:-:db0:demo-station:socketio"
    assert socketio_channel("redis://:pw@10.0.0.5:6379/3", ["b", "a"], "east") == "crowdmap:east:db3:a+b:socketio"
    assert socketio_channel("redis://127.0.0.1:6379", ["a"]) == "crowdmap:-:db0:a:socketio"
    assert socketio_channel("rediss://127.0.0.1:6380/2?ssl_cert_reqs=none", ["a"]) == "crowdmap:-:db2:a:socketio"


@pytest.mark.parametrize(
    ("stations", "deployment"), [([], ""), (["Demo"], ""), (["a"], "east site"), (["a:b"], ""), (["a"], "x\n")]
)
def test_a_channel_is_made_of_plain_ids_only(stations, deployment):
    with pytest.raises(ValueError):
        socketio_channel("redis://127.0.0.1:6379/0", stations, deployment)
