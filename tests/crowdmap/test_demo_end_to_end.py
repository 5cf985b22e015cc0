"""`crowdmap demo` as a user runs it: real processes, real HTTP and Socket.IO on loopback."""

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import socketio

ROOT = Path(__file__).resolve().parents[2]
CROWDMAP = Path(sys.executable).parent / "crowdmap"

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_for_people(base: str, timeout_s: float) -> None:
    """Wait until the web server answers and the edge workers' first dots have arrived."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            latest = get_json(f"{base}/api/v1/stations/demo-station/crowding")
            if any(floor["dots"] for floor in latest["floors"]):
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"no dots from {base} within {timeout_s} s")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    port = free_port()
    data_dir = tmp_path_factory.mktemp("demo-data")
    process = subprocess.Popen(
        [str(CROWDMAP), "demo", "--port", str(port), "--duration", "150", "--data-dir", str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "CROWDMAP_COOKIE_SECURE": "0"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Generous: six edge processes start on two cores, possibly shared with other work.
        wait_for_people(base, timeout_s=120)
        yield base, process, data_dir
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        print(output)


def test_demo_prints_the_url_and_lists_the_station(demo) -> None:
    base, _, _ = demo
    stations = get_json(f"{base}/api/v1/stations")["stations"]
    assert [s["id"] for s in stations] == ["demo-station"]
    assert stations[0]["name"]["ja"] and stations[0]["name"]["en"]
    assert len(stations[0]["floors"]) == 2


def test_demo_serves_moving_dots_and_zone_levels_over_rest_and_socketio(demo) -> None:
    base, _, _ = demo
    received: list[dict] = []
    client = socketio.Client(reconnection=False)
    client.on("crowding", received.append, namespace="/public")
    client.connect(base, namespaces=["/public"], transports=["websocket"], wait_timeout=10)
    client.emit("join", {"station": "demo-station"}, namespace="/public")
    deadline = time.monotonic() + 20
    while len(received) < 8 and time.monotonic() < deadline:
        time.sleep(0.2)
    client.disconnect()
    assert len(received) >= 8, "expected about one frame a second"
    assert all(frame["station"] == "demo-station" for frame in received)
    timestamps = [frame["timestamp"] for frame in received]
    assert timestamps == sorted(timestamps)

    dots = [[d for floor in frame["floors"] for d in floor["dots"]] for frame in received]
    assert max(len(d) for d in dots[-4:]) > 0, "the simulated station should have people in it"
    assert any(sorted(map(tuple, a)) != sorted(map(tuple, b)) for a, b in itertools.pairwise(dots))
    assert any(d[2] == 1 for frame_dots in dots for d in frame_dots), "someone should be walking"

    latest = get_json(f"{base}/api/v1/stations/demo-station/crowding")
    assert latest["station"] == "demo-station"
    zones = [z for floor in latest["floors"] for z in floor["zones"]]
    assert len(zones) >= 6
    for zone in zones:
        assert set(zone) == {"id", "count", "density_per_m2", "level", "los", "stale"}
        assert 0 <= zone["level"] <= 3 and zone["los"] in "ABCDEF"
    assert not all(zone["stale"] for zone in zones)


def test_a_train_arrival_raises_crowding_levels(demo) -> None:
    # The demo's first train pulls in 20 s after start; its surge lasts about a minute.
    base, _, _ = demo
    peak_levels: dict[str, int] = {}
    deadline = time.monotonic() + 100
    while time.monotonic() < deadline and not any(peak_levels.values()):
        latest = get_json(f"{base}/api/v1/stations/demo-station/crowding")
        for zone in (z for floor in latest["floors"] for z in floor["zones"]):
            peak_levels[zone["id"]] = max(peak_levels.get(zone["id"], 0), zone["level"])
        time.sleep(1.0)
    assert any(peak_levels.values()), f"no zone left 'quiet' during the run: {peak_levels}"


def test_demo_exits_cleanly_after_its_duration(demo) -> None:
    _, process, data_dir = demo
    assert process.wait(timeout=200) == 0
    # Only aggregates are stored: the history database exists, and no image file was written anywhere.
    assert list(data_dir.glob("history-demo-station.sqlite3"))
    assert not [p for p in data_dir.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".avi"}]
