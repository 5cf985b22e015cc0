"""Faults of the scale-out station, each process a real ``crowdmap`` command talking through Redis.

Every test runs its own redis-server on a free port (the ``local_redis`` fixture: it can be
restarted, and the shared Redis of other tests is never touched) and the demo station's processes
against it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
import socketio

from bus.codec import MAX_MESSAGE_BYTES, decode_message
from bus.redis_link import MESSAGE_FIELD, frames_stream, positions_stream
from tests.harness.localstation import LocalStation, StationProcess, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.slow]

STATION = "demo-station"
STARTUP_S = 90.0  # two cores shared with other test runs: imports and layout loading can be slow


@dataclass
class Watcher:
    """A Socket.IO client on ``/public`` that records every crowding payload with its arrival time."""

    port: int
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    client: socketio.Client = field(default_factory=lambda: socketio.Client(reconnection=False))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connect(self) -> Watcher:
        @self.client.on("crowding", namespace="/public")
        def crowding(data: dict[str, Any]) -> None:
            with self.lock:
                self.received.append((time.time(), data))

        self.client.connect(f"http://127.0.0.1:{self.port}", namespaces=["/public"], transports=["websocket"])
        reply = self.client.call("join", {"station": STATION}, namespace="/public", timeout=30)
        if not reply or not reply.get("ok"):
            raise AssertionError(f"join refused: {reply}")
        return self

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [payload for _, payload in self.received]

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def station(start_local_station) -> LocalStation:
    return start_local_station(STATION)


def all_logs(station: LocalStation) -> Callable[[], str]:
    return lambda: "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in station.processes)


def wait_ready(process: StationProcess, station: LocalStation, path: str = "/healthz") -> None:
    wait_for(lambda: process.get(path)[0] == 200, timeout_s=STARTUP_S, what=f"{process.name} {path}",
             logs=all_logs(station))  # fmt: skip


# ---- garbage on the bus ------------------------------------------------------------------------

GARBAGE = {
    "not_json": b"\x00\x01 this is not json \xfe",
    "wrong_schema": json.dumps({"type": "positions", "v": 1, "station": STATION, "camera": "gates-inside"}).encode(),
    "oversized": b'{"type":"positions","pad":"' + b"x" * (MAX_MESSAGE_BYTES + 10) + b'"}',
    "jpeg_blob": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40,
    "png_base64": json.dumps({"type": "icon_frames", "image": "iVBORw0KGgoAAAANSUhEUgAA" * 100}).encode(),
}


def test_garbage_on_either_stream_is_rejected_counted_and_never_forwarded(station, local_redis):
    aggregate = station.aggregate()
    web = station.serve("web-1")
    wait_ready(aggregate, station)
    wait_ready(web, station)
    watcher = Watcher(web.port).connect()
    wait_for(lambda: watcher.count() >= 2, timeout_s=STARTUP_S, what="frames at the client", logs=all_logs(station))

    client = redis.Redis.from_url(local_redis.url)
    for raw in GARBAGE.values():
        client.xadd(positions_stream(STATION), {MESSAGE_FIELD: raw})
        client.xadd(frames_stream(STATION), {MESSAGE_FIELD: raw})
    # Entries that are not one "m" field at all, e.g. an image pushed under another name.
    client.xadd(positions_stream(STATION), {b"image": GARBAGE["jpeg_blob"]})
    client.xadd(frames_stream(STATION), {b"image": GARBAGE["jpeg_blob"]})
    # Well-formed messages in the wrong place: an icon frame into the aggregator, positions into the web tier.
    frame_entry = client.xrevrange(frames_stream(STATION), count=50)
    icon_frames = next(
        f[MESSAGE_FIELD] for _, f in frame_entry if f.get(MESSAGE_FIELD, b"").startswith(b'{"type":"icon_frames"')
    )
    client.xadd(positions_stream(STATION), {MESSAGE_FIELD: icon_frames})
    positions = json.dumps({"type": "positions", "v": 1, "station": STATION, "camera": "gates-inside",
                            "floor": "concourse", "t": time.time(), "xy_m": [[50.0, 12.0]], "confidence": [0.9],
                            "sigma_m": [0.2]}).encode()  # fmt: skip
    client.xadd(frames_stream(STATION), {MESSAGE_FIELD: positions})
    unknown_camera = positions.replace(b'"gates-inside"', b'"nobody-s-camera"')
    client.xadd(positions_stream(STATION), {MESSAGE_FIELD: unknown_camera})

    def aggregator_counted() -> bool:
        rejected = "crowdmap_aggregator_messages_rejected_total"
        return (
            aggregate.metric(rejected, reason="schema") >= len(GARBAGE)
            and aggregate.metric(rejected, reason="not_a_crowdmap_entry") >= 1
            and aggregate.metric(rejected, reason="wrong_direction") >= 1
            and aggregate.metric(rejected, reason="unknown_camera") >= 1
        )

    def web_counted() -> bool:
        rejected = "crowdmap_web_messages_rejected_total"
        return (
            web.metric(rejected, reason="invalid") >= len(GARBAGE)
            and web.metric(rejected, reason="wrong-type") >= 1
            and web.metric("crowdmap_bus_malformed_entries_total", role="serve") >= 1
        )

    wait_for(aggregator_counted, timeout_s=30, what="the aggregator's reject counters", logs=all_logs(station))
    wait_for(web_counted, timeout_s=30, what="the web tier's reject counters", logs=all_logs(station))
    seen = watcher.count()
    wait_for(lambda: watcher.count() >= seen + 2, timeout_s=30, what="frames after the garbage", logs=all_logs(station))
    watcher.close()

    # Nothing but well-formed crowding payloads ever reached the client ...
    for payload in watcher.payloads():
        assert set(payload) == {"station", "timestamp", "floors"}
        for floor in payload["floors"]:
            assert set(floor) == {"floor", "dots", "zones"}
    # ... and what the aggregator published is only valid frames and camera status.
    injected = set(GARBAGE.values()) | {positions}
    for _, fields in client.xrange(frames_stream(STATION)):
        raw = fields.get(MESSAGE_FIELD)
        if raw in injected or set(fields) != {MESSAGE_FIELD}:
            continue
        assert type(decode_message(raw)).__name__ in ("StationFramesMessage", "StatusMessage")
    assert aggregate.alive() and web.alive()
    client.close()


# ---- one web process dies -----------------------------------------------------------------------


def relaying(process: StationProcess) -> bool:
    return process.metric("crowdmap_web_relay_leader") == 1.0


def test_when_one_web_process_dies_clients_on_the_others_keep_receiving_each_frame_once(station):
    aggregate = station.aggregate()
    webs = [station.serve("web-1"), station.serve("web-2")]
    wait_ready(aggregate, station)
    for web in webs:
        wait_ready(web, station)
    wait_for(lambda: sum(relaying(w) for w in webs) == 1, timeout_s=30, what="one relay", logs=all_logs(station))
    leader = next(w for w in webs if relaying(w))
    survivor = next(w for w in webs if w is not leader)
    watchers = [Watcher(w.port).connect() for w in webs]
    wait_for(lambda: all(w.count() >= 4 for w in watchers), timeout_s=60, what="frames on both", logs=all_logs(station))

    # Through the message queue a client on either process gets every frame exactly once.
    for watcher in watchers:
        stamps = [p["timestamp"] for p in watcher.payloads()]
        assert len(stamps) == len(set(stamps)), "a frame arrived twice"

    leader.kill()  # no clean shutdown: its lease must run out
    on_survivor = watchers[webs.index(survivor)]
    before = on_survivor.count()
    wait_for(lambda: on_survivor.count() >= before + 5, timeout_s=60, what="frames after the relay died",
             logs=all_logs(station))  # fmt: skip
    assert relaying(survivor)
    stamps = [p["timestamp"] for p in on_survivor.payloads()]
    assert len(stamps) == len(set(stamps)) and stamps == sorted(stamps)
    for watcher in watchers:
        if watcher is not watchers[webs.index(leader)]:
            watcher.close()
