"""Broadcasts written straight to the sockets: whole frames, in order, and slow clients dropped.

The live tests run the real gevent server (``live_server.py``) and talk to it over real
WebSockets, Engine.IO and Socket.IO packets spelled out, so a client can stop reading on purpose.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import numpy as np
import pytest
import websocket
from geventwebsocket.websocket import Header, WebSocket

from webmap.direct_send import attach, text_frame
from webmap.payload import unpack_dots

PREFIX = "42/public,"


@pytest.mark.parametrize("length", [0, 1, 125, 126, 65535, 65536, 70000])
def test_text_frame_matches_gevent_websockets_own_framing(length):
    payload = bytes(range(256)) * (length // 256) + bytes(length % 256)
    expected = Header.encode_header(True, WebSocket.OPCODE_TEXT, b"", length, 0) + payload
    assert text_frame(payload) == expected


def test_connections_without_gevent_websocket_keep_the_queued_path():
    assert attach({}) is None, "long-polling and the threading server have no socket to write to"
    assert attach({"wsgi.websocket": object()}) is None


class RawClient:
    """One Socket.IO client over a raw WebSocket: it reads only when told to."""

    def __init__(self, port: int, receive_buffer_bytes: int | None = None) -> None:
        options = [] if receive_buffer_bytes is None else [(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer_bytes)]
        url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(url, timeout=20, sockopt=options)
        assert self.ws.recv().startswith("0{"), "Engine.IO open packet"
        self.ws.send("40/public,")
        assert self.packet().startswith("0/public,{"), "Socket.IO connected to /public"

    def packet(self) -> str:
        """The next Socket.IO packet, answering Engine.IO pings on the way."""
        while True:
            message = self.ws.recv()
            if message == "2":
                self.ws.send("3")
                continue
            assert isinstance(message, str) and message.startswith("4"), f"not an Engine.IO message: {message!r:.80}"
            return message[1:]

    def join(self, **data: str) -> list[dict]:
        """Join; return the crowding frames that came before the acknowledgement."""
        self.ws.send(PREFIX + "0" + json.dumps(["join", data]))
        before = []
        while True:
            packet = self.packet()
            if packet.startswith("3/public,0"):
                assert json.loads(packet[len("3/public,0") :])[0]["ok"]
                return before
            before.append(self.decode(packet))

    @staticmethod
    def decode(packet: str) -> dict:
        assert packet.startswith("2/public,"), f"expected an event, got {packet!r:.80}"
        event, payload = json.loads(packet[len("2/public,") :])
        assert event == "crowding"
        return payload

    def frames(self, count: int) -> list[dict]:
        return [self.decode(self.packet()) for _ in range(count)]

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory, wm):
    server = wm.LiveServer(wm.free_port(), tmp_path_factory.mktemp("direct-send"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def public_paths_only(tmp_path_factory, wm):
    """The server as it runs when a private library part's contract failed (webmap/internals.py)."""
    server = wm.LiveServer(
        wm.free_port(), tmp_path_factory.mktemp("public-paths"), env={"CROWDMAP_PRIVATE_LIBRARY_ACCESS": "0"}
    )
    server.start()
    yield server
    server.stop()


def dots_of(n: int, seed: int) -> tuple[list[list[float]], list[bool]]:
    """Dots on the demo station's 0.5 m grid (cell centres), as the aggregator sends them."""
    rng = np.random.default_rng(seed)
    xy = (np.floor(rng.uniform([0, 0], [80, 30], size=(n, 2)) * 2) + 0.5) / 2
    return xy.tolist(), (rng.random(n) < 0.7).tolist()


def published(xy: list[list[float]]) -> list[list[float]]:
    """The dots as the public payload writes them: to 0.1 m."""
    return np.round(np.asarray(xy), 1).tolist()


def dropped_total(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("crowdmap_web_frames_dropped_slow_client_total "):
                return float(line.split()[1])
    raise AssertionError("no dropped-frames counter in /metrics")


@pytest.mark.parametrize("server", ["live", "public_paths_only"])
def test_every_client_gets_every_frame_whole_and_in_order(server, wm, demo_layout, request):
    live = request.getfixturevalue(server)
    clients = [RawClient(live.port) for _ in range(6)]
    for i, client in enumerate(clients):
        client.join(station="demo-station", **({"encoding": "compact"} if i % 2 else {}))
    start = time.time()
    sent = []
    for k in range(25):
        xy, moving = dots_of(40 + k, seed=k)
        sent.append((start + k, xy, moving))
        frame = wm.make_frame(demo_layout, "concourse", dots=xy, moving=moving, timestamp_s=start + k)
        live.send(wm.frames_message(demo_layout, [frame], timestamp_s=start + k))
    for i, client in enumerate(clients):
        got = client.frames(len(sent))
        assert [p["timestamp"] for p in got] == [round(t, 3) for t, _, _ in sent], "every frame, in order"
        for payload, (_, xy, moving) in zip(got, sent, strict=True):
            dots = payload["floors"][0]["dots"]
            if i % 2:
                assert payload["encoding"] == "compact-1"
                dots = unpack_dots(dots)
            assert [[x, y] for x, y, _ in dots] == published(xy) and [bool(m) for *_, m in dots] == moving
        client.close()


def test_a_client_that_stops_reading_loses_frames_but_never_the_stream(live, wm, demo_layout):
    """Small socket buffers and 300-dot frames: the stalled client's buffer fills within a few frames."""
    reader = RawClient(live.port)
    stalled = RawClient(live.port, receive_buffer_bytes=4096)
    reader.join(station="demo-station")
    stalled.join(station="demo-station")
    dropped_before = dropped_total(live.port)
    frames = 150
    received: list[dict] = []
    reading = threading.Thread(target=lambda: received.extend(reader.frames(frames)))
    reading.start()
    start = time.time() + 1000  # after every frame of the test before
    xy, moving = dots_of(300, seed=7)
    for k in range(frames):
        frame = wm.make_frame(demo_layout, "concourse", dots=xy, moving=moving, timestamp_s=start + k)
        live.send(wm.frames_message(demo_layout, [frame], timestamp_s=start + k))
    reading.join(timeout=60)
    assert [p["timestamp"] for p in received] == [round(start + k, 3) for k in range(frames)], (
        "a stalled neighbour costs a reading client nothing"
    )
    assert dropped_total(live.port) > dropped_before, "the stalled client lost frames"

    # The stalled client reads again: whole packets, oldest first, until its backlog is drained ...
    stalled.ws.settimeout(2)
    caught_up = []
    with pytest.raises(websocket.WebSocketTimeoutException):
        while True:
            caught_up.append(stalled.decode(stalled.packet()))
    stamps = [p["timestamp"] for p in caught_up]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), "in order, none twice"
    assert 0 < len(stamps) < frames, "frames were dropped, not queued without limit"
    assert all(len(p["floors"][0]["dots"]) == 300 for p in caught_up), "whole frames only"
    # ... and then it gets the next frame as everyone else does.
    stalled.ws.settimeout(20)
    late = start + frames + 10
    live.send(
        wm.frames_message(demo_layout, [wm.make_frame(demo_layout, "concourse", timestamp_s=late)], timestamp_s=late)
    )
    assert stalled.decode(stalled.packet())["timestamp"] == round(late, 3)
    reader.close()
    stalled.close()
