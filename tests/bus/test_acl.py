"""Each role's Redis account, on a real Redis: the role's own work passes, everything else is refused.

Attacks: a stolen edge password used to read raw positions or to inject frames straight into the
web tier; a web process (the internet-facing tier) reading raw positions; any role flushing Redis,
reading its configuration or listing keys.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from bus.acl import ROLES, acl_rules
from bus.redis_link import MESSAGE_FIELD, frames_stream, persistence_warnings, positions_stream, socketio_channel
from bus.redis_publisher import RedisStreamPublisher
from bus.redis_subscribers import RedisGroupSubscriber, RedisStreamSubscriber
from crowdmap.tiers.relay import RelayLease, relay_lease_key
from tests.bus.conftest import messages
from tests.harness.localredis import LocalRedis
from webmap.acks import RedisAckStore
from webmap.store import RedisLatestStore

pytestmark = pytest.mark.redis

STATION = "demo-station"
OTHER = "other-station"


@pytest.fixture
def accounts(tmp_path) -> Iterator[dict[str, str]]:
    """A private redis-server with one account per role; their URLs by role."""
    server = LocalRedis(tmp_path / "redis")
    server.start()
    admin = redis.Redis.from_url(server.url)
    urls = {}
    for role in ROLES:
        rules = acl_rules(role, STATION, redis_url=server.url, simulated=True)
        admin.execute_command("ACL", "SETUSER", f"crowdmap-{role}", "reset", "on", f">{role}-secret", *rules)
        urls[role] = f"redis://crowdmap-{role}:{role}-secret@127.0.0.1:{server.port}/0"
    urls["admin"] = server.url
    yield urls
    for role in ROLES:
        admin.execute_command("ACL", "DELUSER", f"crowdmap-{role}")
    admin.close()
    server.stop()


def refused(client: redis.Redis, *command: str | bytes) -> bool:
    try:
        client.execute_command(*command)
    except redis.exceptions.NoPermissionError:
        return True
    return False


def test_each_role_does_its_own_work_and_nothing_else(accounts) -> None:
    positions, frames = positions_stream(STATION), frames_stream(STATION)
    # The edge appends positions (trimmed by age, expiring) ...
    edge = RedisStreamPublisher(accounts["edge"], positions, maxlen=1000, retention_s=5.0)
    aggregator_in = RedisGroupSubscriber(accounts["aggregator"], positions, group="aggregator", consumer="a1")
    assert aggregator_in.receive(timeout_s=0.05) is None  # the group exists before anything is sent
    for raw in messages(5, "p"):
        edge.publish(raw)
    assert edge.flush(timeout_s=10.0) and edge.sent == 5 and edge.refused == 0
    # ... the aggregator reads them through its group and appends frames ...
    got = [aggregator_in.receive(timeout_s=0.5) for _ in range(5)]
    assert got == messages(5, "p")
    assert aggregator_in.pending_count() is not None and aggregator_in.group_lag() is not None
    reader = RedisStreamSubscriber(accounts["web"], frames, start_with_latest=False)
    assert reader.receive(timeout_s=0.05) is None  # reads what comes from here on
    aggregator_out = RedisStreamPublisher(accounts["aggregator"], frames, maxlen=100)
    for raw in messages(3, "f"):
        aggregator_out.publish(raw)
    assert aggregator_out.flush(timeout_s=10.0) and aggregator_out.refused == 0
    # ... the web tier reads the frames, holds the relay lease, shares its state.
    web = redis.Redis.from_url(accounts["web"])
    assert [reader.receive(timeout_s=0.5) for _ in range(3)] == messages(3, "f")
    lease = RelayLease(web, relay_lease_key(STATION), "web-1")
    assert lease.renew() and lease.held()
    lease.release()
    RedisLatestStore(web).put(STATION, {"station": STATION, "timestamp": 1.0, "floors": []})
    assert RedisLatestStore(web).get(STATION)["timestamp"] == 1.0
    RedisAckStore(web).put(STATION, "alert-1", "sam", 10.0)
    assert RedisAckStore(web).get(STATION)
    assert web.publish(socketio_channel(accounts["admin"], [STATION]), b"frame") == 0
    for client in (edge, aggregator_in, aggregator_out, reader):
        client.close()
    web.close()


def test_a_stolen_edge_password_reads_nothing_and_cannot_reach_the_web_tier(accounts) -> None:
    edge = redis.Redis.from_url(accounts["edge"])
    assert edge.xadd(positions_stream(STATION), {MESSAGE_FIELD: b"{}"})
    assert refused(edge, "XRANGE", positions_stream(STATION), "-", "+")  # raw positions stay unread
    assert refused(edge, "XADD", frames_stream(STATION), "*", "m", "{}")  # no frames into the web tier
    assert refused(edge, "XADD", positions_stream(OTHER), "*", "m", "{}")  # no other station
    assert refused(edge, "PUBLISH", socketio_channel(accounts["admin"], [STATION]), "x")
    # A publisher whose account may not append counts the refusals and lives on.
    wrong = RedisStreamPublisher(accounts["edge"], frames_stream(STATION), maxlen=100)
    for raw in messages(4, "f"):
        wrong.publish(raw)
    assert wrong.flush(timeout_s=10.0) and wrong.refused == 4 and wrong.sent == 0
    wrong.close()
    edge.close()


def test_the_web_tier_can_never_read_raw_positions(accounts) -> None:
    redis.Redis.from_url(accounts["edge"]).xadd(positions_stream(STATION), {MESSAGE_FIELD: b"{}"})
    web = redis.Redis.from_url(accounts["web"])
    for command in (
        ("XRANGE", positions_stream(STATION), "-", "+"),
        ("XREAD", "STREAMS", positions_stream(STATION), "0"),
        ("XADD", positions_stream(STATION), "*", "m", "{}"),
        ("XADD", frames_stream(STATION), "*", "m", "{}"),
        ("GET", f"crowdmap:latest:{OTHER}"),
        ("PUBLISH", "flask-socketio", "x"),
    ):
        assert refused(web, *command), command
    web.close()


def test_the_aggregator_may_not_write_positions(accounts) -> None:
    aggregator = redis.Redis.from_url(accounts["aggregator"])
    assert refused(aggregator, "XADD", positions_stream(STATION), "*", "m", "{}")
    assert refused(aggregator, "XRANGE", frames_stream(STATION), "-", "+")
    aggregator.close()


@pytest.mark.parametrize("role", ROLES)
def test_no_role_may_flush_configure_or_list(accounts, role) -> None:
    client = redis.Redis.from_url(accounts[role])
    for command in (("FLUSHALL",), ("CONFIG", "GET", "requirepass"), ("KEYS", "*"), ("SCAN", "0"), ("ACL", "LIST")):
        assert refused(client, *command), command
    # The start-up persistence check still runs (INFO), and says what it could not read.
    assert persistence_warnings(client) == [
        'could not read Redis\'s save points (no permission for CONFIG GET): make sure save ""'
    ]
    client.close()


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="role"):
        acl_rules("admin", STATION, redis_url="redis://127.0.0.1:6379/0")
