"""Issue 11 item 8, against the real gevent server: garbage from a client costs one log line, and a
client cannot move the client gauge with forged connect/disconnect events."""

from __future__ import annotations

import time
import urllib.request

import pytest
import websocket

PACKETS = {
    "not an Engine.IO packet": "x-ray",
    "an empty Engine.IO packet": "",
    "not a Socket.IO packet": "4garbage",
    "broken JSON": '42/public,["join",{',
    "50,000 nested brackets": "42/public," + "[" * 50_000 + "]" * 50_000,
    "a binary event for a namespace not joined": '451-/other,["join",{"_placeholder":true,"num":0}]',
}


@pytest.fixture(scope="module")
def live(tmp_path_factory, wm):
    folder = tmp_path_factory.mktemp("packet-guard")
    server = wm.LiveServer(wm.free_port(), folder, log=folder / "server.log")
    server.start()
    yield server
    server.stop()


def connect(port: int) -> websocket.WebSocket:
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", timeout=10)
    assert ws.recv().startswith("0{")
    ws.send("40/public,")
    assert ws.recv().startswith("40/public,")
    return ws


def metric(port: int, line_start: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(line_start + " "):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def wait_for(check, what: str) -> None:
    for _ in range(100):  # bounded: 10 s, far beyond what a handler takes
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_undecodable_packets_cost_one_log_line_each_and_are_counted(live):
    before = metric(live.port, "crowdmap_web_malformed_packets_total")
    for packet in PACKETS.values():
        ws = connect(live.port)
        ws.send(packet)
        time.sleep(0.2)
        ws.close()
    wait_for(
        lambda: metric(live.port, "crowdmap_web_malformed_packets_total") == before + len(PACKETS),
        f"{len(PACKETS)} undecodable packets counted",
    )
    log = live.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if "undecodable" in line]
    assert len(lines) == len(PACKETS)
    assert all("nested" not in line and "[[[" not in line and "garbage" not in line for line in lines)
    # Every connection that sent garbage is gone, not left until its ping times out.
    wait_for(lambda: metric(live.port, 'crowdmap_web_clients{namespace="/public"}') == 0, "no client left")


def test_forged_connect_and_disconnect_events_do_not_move_the_client_gauge(live):
    gauge = 'crowdmap_web_clients{namespace="/public"}'
    wait_for(lambda: metric(live.port, gauge) == 0, "no client left from another test")
    clients = [connect(live.port) for _ in range(3)]
    wait_for(lambda: metric(live.port, gauge) == 3, "three clients")
    for ws in clients:
        for _ in range(5):
            ws.send('42/public,["disconnect"]')
            ws.send('42/public,["connect"]')
    forged = 'crowdmap_web_forged_events_total{event="disconnect",namespace="/public"}'
    wait_for(lambda: metric(live.port, forged) == 15, "15 forged disconnects counted")
    assert metric(live.port, gauge) == 3
    for ws in clients:
        ws.close()
    wait_for(lambda: metric(live.port, gauge) == 0, "the real disconnects counted once each")
