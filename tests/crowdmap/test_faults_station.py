"""The whole simulated demo station as separate OS processes over Redis, and its faults.

Processes: two edges (the concourse cameras, the platform cameras), one aggregator and two web
processes, all real ``crowdmap`` commands, against a redis-server of this module's own (so it
can be restarted without touching the shared one). A Socket.IO client on each web process
watches what a browser would get.

The tests run in file order on one station; each one leaves it running and healthy again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
import socketio

from bus.codec import PositionsMessage, StatusMessage, decode_message
from bus.redis_link import DEFAULT_BUFFER_MESSAGES, DEFAULT_POSITIONS_RETENTION_S, MESSAGE_FIELD, positions_stream
from crowdmap.station import load_station
from tests.harness.localredis import LocalRedis
from tests.harness.localstation import LocalStation, StationProcess, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]

STATION = "demo-station"
LAYOUT = load_station(STATION).layout
CONCOURSE = [c.id for c in LAYOUT.cameras if c.floor == "concourse"]
PLATFORM = [c.id for c in LAYOUT.cameras if c.floor == "platform"]
STARTUP_S = 240.0  # six simulated cameras on two cores shared with other test runs
# The aggregator reports a silent edge's cameras dead after this long (``--edge-silence-s``), at its
# next tick (1 s). The bound is measured from the edge's last message in Redis, not from the test's
# kill call, with a margin for five processes sharing two loaded cores.
SILENCE_S = 3.0
TICK_S = 1.0
MARGIN_S = 3.0
STALE_WITHIN_S = SILENCE_S + TICK_S + MARGIN_S
RETENTION_S = DEFAULT_POSITIONS_RETENTION_S


@dataclass
class Watcher:
    """A Socket.IO client on ``/public`` recording each crowding payload."""

    port: int
    payloads: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    client: socketio.Client = field(default_factory=lambda: socketio.Client(reconnection=True))

    def connect(self) -> Watcher:
        @self.client.on("crowding", namespace="/public")
        def crowding(data: dict[str, Any]) -> None:
            with self.lock:
                self.payloads.append(data)

        self.client.connect(f"http://127.0.0.1:{self.port}", namespaces=["/public"], transports=["websocket"])
        reply = self.client.call("join", {"station": STATION}, namespace="/public", timeout=60)
        if not reply or not reply.get("ok"):
            raise AssertionError(f"join refused: {reply}")
        return self

    def since(self, since_s: float) -> list[dict[str, Any]]:
        with self.lock:
            return [p for p in self.payloads if p["timestamp"] > since_s]


def stale_by_floor(payload: dict[str, Any]) -> dict[str, bool]:
    """For each floor: are all its zones stale (True), none (False)? Mixed floors map to None."""
    out = {}
    for floor in payload["floors"]:
        flags = {zone["stale"] for zone in floor["zones"]}
        out[floor["floor"]] = flags.pop() if len(flags) == 1 else None
    return out


def all_live(payload: dict[str, Any]) -> bool:
    return all(value is False for value in stale_by_floor(payload).values())


@dataclass
class Station:
    redis: LocalRedis
    local: LocalStation
    edges: dict[str, StationProcess]
    aggregate: StationProcess
    webs: list[StationProcess]
    watchers: list[Watcher]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log_tail(15)}" for p in self.local.processes)

    def wait(self, condition: Callable[[], bool], what: str, timeout_s: float = 120.0) -> None:
        wait_for(condition, timeout_s=timeout_s, what=what, logs=self.logs)

    def wait_all_live(self, after_s: float, timeout_s: float = STARTUP_S) -> None:
        for watcher in self.watchers:
            self.wait(lambda w=watcher: any(all_live(p) for p in w.since(after_s)),
                      f"a frame with every zone live on port {watcher.port}", timeout_s)  # fmt: skip


@pytest.fixture(scope="module")
def station(tmp_path_factory) -> Iterator[Station]:
    workdir = tmp_path_factory.mktemp("station")
    server = LocalRedis(workdir / "redis")
    server.start()
    local = LocalStation(STATION, server.url, workdir)
    try:
        edges = {
            "concourse": local.edge("edge-concourse", CONCOURSE),
            "platform": local.edge("edge-platform", PLATFORM),
        }
        aggregate = local.aggregate("aggregate", "--edge-silence-s", str(SILENCE_S))
        webs = [local.serve("web-1"), local.serve("web-2")]
        running = Station(server, local, edges, aggregate, webs, [])
        for process in [*edges.values(), aggregate, *webs]:
            running.wait(lambda p=process: p.get("/healthz")[0] == 200, f"{process.name} /healthz", STARTUP_S)
        running.watchers = [Watcher(web.port).connect() for web in webs]
        running.wait_all_live(0.0)
        yield running
        for watcher in running.watchers:
            watcher.client.disconnect()
    finally:
        local.stop()
        server.stop()


def test_the_whole_station_runs_as_separate_processes(station):
    started = time.time()
    for watcher in station.watchers:
        station.wait(lambda w=watcher: len(w.since(started)) >= 3, "three fresh frames")
    for watcher in station.watchers:
        payloads = watcher.since(started)
        stamps = [p["timestamp"] for p in payloads]
        assert len(stamps) == len(set(stamps)), "a frame reached a client twice"
        assert any(floor["dots"] for p in payloads for floor in p["floors"]), "the simulated crowd shows as dots"
        assert {f["floor"] for f in payloads[-1]["floors"]} == {"concourse", "platform"}
    # Every edge reports its cameras live, the aggregator reads them, nothing is rejected.
    for edge in station.edges.values():
        assert edge.get("/readyz")[0] == 200
        assert edge.metric("crowdmap_edge_positions_total") > 0
    assert station.aggregate.get("/readyz")[0] == 200
    assert station.aggregate.metric("crowdmap_aggregator_messages_rejected_total") == 0
    assert station.aggregate.metric("crowdmap_aggregator_zones_stale") == 0


def last_heard_s(station: Station, cameras: list[str]) -> float:
    """When Redis received the newest message of any of ``cameras`` (its entry id's clock), unix seconds."""
    client = redis.Redis.from_url(station.redis.url)
    try:
        for entry_id, fields in client.xrevrange(positions_stream(STATION), count=2000):
            message = decode_message(fields[MESSAGE_FIELD])
            camera = message.positions.camera_id if isinstance(message, PositionsMessage) else None
            if isinstance(message, StatusMessage):
                camera = message.status.camera_id
            if camera in cameras:
                return int(entry_id.split(b"-")[0]) / 1000.0
    finally:
        client.close()
    raise AssertionError(f"no message of {cameras} in the positions stream")


def test_an_edge_that_dies_turns_its_zones_stale_within_the_silence_and_they_recover(station):
    edge = station.edges["platform"]
    edge.kill()
    killed_at = last_heard_s(station, PLATFORM)
    watcher = station.watchers[0]
    station.wait(
        lambda: any(stale_by_floor(p)["platform"] is True for p in watcher.since(killed_at)), "stale platform zones"
    )
    station.wait(lambda: len(watcher.since(killed_at + STALE_WITHIN_S)) >= 2, "frames after the bound")
    later = watcher.since(killed_at + STALE_WITHIN_S)
    # Every frame made after the silence (plus a tick and the margin) shows its zones stale; the other
    # edge's stay live.
    assert all(stale_by_floor(p)["platform"] is True for p in later)
    assert all(stale_by_floor(p)["concourse"] is False for p in later)
    assert station.aggregate.metric("crowdmap_aggregator_camera_state", camera=PLATFORM[0], state="dead") == 1

    restarted_at = time.time()
    edge.start()
    station.wait_all_live(restarted_at)
    # Zones need one live camera; each returning camera turns live with its first status.
    for camera in PLATFORM:
        station.wait(
            lambda c=camera: station.aggregate.metric("crowdmap_aggregator_camera_state", camera=c, state="live") == 1,
            f"camera {camera} live again",
        )


def test_a_restarted_aggregator_resumes_from_its_consumer_group(station):
    client = redis.Redis.from_url(station.redis.url)
    stream = positions_stream(STATION)

    def group_lag() -> int:
        # None once entries the group never read were trimmed away by age.
        lag = next(g for g in client.xinfo_groups(stream) if g["name"] == b"aggregator")["lag"]
        return -1 if lag is None else int(lag)

    def oldest_age_s() -> float:
        oldest = client.xrange(stream, count=1)
        now_s, micros = client.time()
        return now_s + micros / 1e6 - int(oldest[0][0].split(b"-")[0]) / 1000.0 if oldest else 0.0

    station.aggregate.kill()
    # The edges go on publishing; the entries wait in the stream for the group ...
    station.wait(lambda: group_lag() >= 20, "positions piling up while no aggregator runs")
    # ... but only for the retention: raw positions older than that are gone even with nobody reading.
    time.sleep(RETENTION_S + 1.0)
    assert oldest_age_s() <= RETENTION_S + 1.0
    restarted_at = time.time()
    station.aggregate.start()
    station.wait(lambda: station.aggregate.get("/healthz")[0] == 200, "the aggregator back", STARTUP_S)
    # It resumes from its group (same consumer name): it reads on, and the station turns live again.
    station.wait(lambda: station.aggregate.metric("crowdmap_aggregator_messages_received_total") > 0, "reading")
    station.wait_all_live(restarted_at)
    client.close()


def test_after_redis_restarts_every_process_reconnects_by_itself(station):
    processes = [*station.edges.values(), station.aggregate, *station.webs]
    station.redis.restart()  # empty: streams, group, lease and the latest frame are gone
    restarted_at = time.time()
    station.wait_all_live(restarted_at)
    for process in processes:
        assert process.alive(), f"{process.name} died\n{process.log_tail()}"
    for edge in station.edges.values():
        station.wait(lambda e=edge: e.metric("crowdmap_bus_connected") == 1.0, f"{edge.name} reconnected")
        # While Redis was away an edge kept at most its buffer; what it dropped is counted, not queued.
        assert edge.metric("crowdmap_bus_buffered") <= DEFAULT_BUFFER_MESSAGES
    assert station.aggregate.metric("crowdmap_bus_reconnects_total", role="aggregate") >= 1
    assert sum(web.metric("crowdmap_web_relay_leader") for web in station.webs) == 1
    for watcher in station.watchers:
        stamps = [p["timestamp"] for p in watcher.since(restarted_at)]
        assert len(stamps) == len(set(stamps))
