"""Redis restarts under a running bus: everyone reconnects by themselves, drops stay bounded.

Each test starts its OWN redis-server on a free port (the ``local_redis`` fixture, never the
shared one) and restarts it, losing every key, as a crashed Redis without persistence does.
"""

from __future__ import annotations

import pytest
import redis

from bus.backoff import Backoff
from bus.redis_link import frames_stream, positions_stream
from bus.redis_publisher import RedisStreamPublisher
from bus.redis_subscribers import RedisGroupSubscriber, RedisStreamSubscriber
from crowdmap.tiers.relay import RelayLease, relay_lease_key

pytestmark = [pytest.mark.redis, pytest.mark.slow]

# Short waits, so reconnection happens within a few receive calls of the test.
FAST = (0.05, 0.1, 0.2)


def receive_until(subscriber, wanted: int, max_calls: int = 400) -> list[bytes]:
    got: list[bytes] = []
    for _ in range(max_calls):
        raw = subscriber.receive(timeout_s=0.05)
        if raw is not None:
            got.append(raw)
            if len(got) == wanted:
                break
    return got


def test_positions_flow_again_after_redis_restarts(local_redis):
    stream = positions_stream("restart-station")
    publisher = RedisStreamPublisher(local_redis.url, stream, maxlen=1000, buffer_messages=20, backoff=Backoff(FAST))
    subscriber = RedisGroupSubscriber(local_redis.url, stream, group="aggregator", consumer="a1", backoff=Backoff(FAST))
    publisher.publish(b'{"before":1}')
    assert receive_until(subscriber, 1) == [b'{"before":1}']

    local_redis.stop()
    # While Redis is down: publishing never raises; at most 20 messages wait, the rest are counted drops.
    for i in range(100):
        assert publisher.publish(f'{{"down":{i}}}'.encode())
    assert subscriber.receive(timeout_s=0.05) is None
    assert publisher.buffered <= 20
    assert not subscriber.link.connected

    local_redis.start()  # same port, empty: the stream and the consumer group are gone
    assert publisher.flush(timeout_s=10.0)
    after = [f'{{"after":{i}}}'.encode() for i in range(5)]
    for raw in after:
        publisher.publish(raw)
    assert publisher.flush(timeout_s=10.0)
    got = receive_until(subscriber, 25)
    # The group is recreated from the start of the new stream: the 20 newest messages kept
    # while Redis was down, then the new ones, nothing else and nothing twice.
    assert got == [f'{{"down":{i}}}'.encode() for i in range(80, 100)] + after
    assert publisher.dropped == 80
    assert publisher.link.reconnects >= 1 and subscriber.link.reconnects >= 1
    publisher.close()
    subscriber.close()


def test_web_readers_and_the_relay_lease_come_back_after_redis_restarts(local_redis):
    stream = frames_stream("restart-station")
    publisher = RedisStreamPublisher(local_redis.url, stream, maxlen=100, backoff=Backoff(FAST))
    reader = RedisStreamSubscriber(local_redis.url, stream, backoff=Backoff(FAST))
    client = redis.Redis.from_url(local_redis.url)
    lease = RelayLease(client, relay_lease_key("restart-station"), "web-1", ttl_s=3.0)
    assert lease.renew() and lease.held()
    assert reader.receive(timeout_s=0.05) is None
    publisher.publish(b'{"frame":1}')
    assert receive_until(reader, 1) == [b'{"frame":1}']

    local_redis.stop()
    # While Redis is away the reader returns nothing and records the outage; the lease lapses.
    assert reader.receive(timeout_s=0.05) is None
    assert not reader.link.connected and reader.link.errors >= 1
    assert not lease.renew() and not lease.held()
    local_redis.start()  # empty: the stream and the lease key are gone
    # The first renewal afterwards may hit the dead connection.
    renewed = [lease.renew() for _ in range(3)]
    assert renewed[-1] and lease.held()
    publisher.publish(b'{"frame":2}')
    assert publisher.flush(timeout_s=10.0)
    assert receive_until(reader, 1) == [b'{"frame":2}']
    # It saw Redis go and come back: one reconnection, and connected now.
    assert reader.link.connected and reader.link.reconnects == 1
    publisher.close()
    reader.close()
    client.close()


def test_a_second_web_process_takes_the_lease_only_when_the_first_lets_go(local_redis):
    client = redis.Redis.from_url(local_redis.url)
    key = relay_lease_key("restart-station")
    first = RelayLease(client, key, "web-1", ttl_s=3.0)
    second = RelayLease(client, key, "web-2", ttl_s=3.0)
    assert first.renew() and not second.renew()
    assert first.renew() and not second.held()
    first.release()  # a clean shutdown hands over at once
    assert not first.held()
    assert second.renew() and second.held() and not first.renew()
    client.delete(key)  # as if web-2 died and its lease ran out
    assert first.renew() and not second.renew()
    client.close()
