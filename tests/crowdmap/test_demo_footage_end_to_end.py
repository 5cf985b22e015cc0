"""`crowdmap demo --footage` as a user runs it: the simulated station and PETS2009 on its real clip, one server.

Real processes, real HTTP and Socket.IO on loopback, the clip found where a checkout finds it
(``../shared/data``), the default detector on it in real time. A Socket.IO client joins the PETS
station on ``/public`` and must receive crowding frames whose dots come from detection: as many as
people walk the forecourt, on its floor, in zones that are not stale.
"""

import json
import os
import urllib.request

import numpy as np
import pytest

from tests.harness.demo import ROOT, get_json, public_frames, run_demo

PETS_VIDEO = ROOT.parent / "shared" / "data" / "pets2009_s2l1" / "vtest.avi"
DURATION_S = 60
# Seven cameras (one with a real detector), two aggregators and a web server on two shared cores.
START_TIMEOUT_S = 300

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory, model_root):
    data_dir = tmp_path_factory.mktemp("footage-demo-data")
    env = {**os.environ, "CROWDMAP_MODEL_DIR": str(model_root)}
    env.pop("CROWDMAP_SHARED_DATA", None)  # the clip beside the checkout, as a newcomer's demo finds it
    arguments = ["--footage", "--duration", str(DURATION_S)]
    with run_demo(arguments, data_dir=data_dir, start_timeout_s=START_TIMEOUT_S, env=env) as running:
        yield running, data_dir


def test_the_map_offers_both_stations(demo) -> None:
    running, _ = demo
    output = "".join(running.lines)
    assert f"real footage: {PETS_VIDEO.resolve()}" in output
    assert f"station pets2009 with 1 cameras: {running.base}/?station=pets2009" in output
    stations = get_json(f"{running.base}/api/v1/stations")["stations"]
    assert [s["id"] for s in stations] == ["pets2009", "demo-station"]
    with urllib.request.urlopen(f"{running.base}/?station=pets2009", timeout=5) as response:
        page = response.read().decode()
    # The station chooser lists both, the footage station selected.
    assert '<option value="demo-station">' in page
    assert '<option value="pets2009" selected>' in page
    # The printed address alone opens on the footage too: it is what --footage asked to see.
    with urllib.request.urlopen(f"{running.base}/", timeout=5) as response:
        assert '<option value="pets2009" selected>' in response.read().decode()


def test_real_detection_reaches_a_public_socketio_client(demo) -> None:
    running, _ = demo

    def with_dots(received: list[dict]) -> list[dict]:
        return [f for f in received if any(floor["dots"] for floor in f["floors"])]

    # The detector loads when the station is up; give it time on loaded cores, then ten frames.
    received = public_frames(
        running.base, "pets2009", enough=lambda got: len(with_dots(got)) >= 10, timeout_s=DURATION_S - 10
    )
    frames = with_dots(received)
    assert len(frames) >= 10, f"{len(received)} frames, {len(frames)} with dots"
    assert all(frame["station"] == "pets2009" for frame in received)
    timestamps = [frame["timestamp"] for frame in received]
    assert timestamps == sorted(timestamps)
    counts = []
    for frame in frames:
        (floor,) = frame["floors"]
        dots = np.array(floor["dots"], dtype=float).reshape(-1, 3)
        # On the 28 m x 28 m forecourt plan, each a position and a moving flag, nothing else.
        assert np.all((dots[:, :2] >= 0) & (dots[:, :2] <= 28)) and set(dots[:, 2]) <= {0, 1}
        counts.append(len(dots))
        assert {zone["id"] for zone in floor["zones"]} == {"lawn", "road", "forecourt"}
    # PETS2009 S2.L1 has 5-8 people on the floor a frame at the start: detection, not noise or nothing.
    assert 3 <= float(np.median(counts)) <= 15, counts
    # Frames follow the clip: people walk, so the dots change.
    assert len({json.dumps(f["floors"][0]["dots"]) for f in frames}) > 1
    assert not any(zone["stale"] for zone in frames[-1]["floors"][0]["zones"])


def test_the_simulated_station_runs_beside_it(demo) -> None:
    running, _ = demo
    latest = get_json(f"{running.base}/api/v1/stations/demo-station/crowding")
    assert latest["station"] == "demo-station"
    assert not all(zone["stale"] for floor in latest["floors"] for zone in floor["zones"])


def test_the_footage_demo_exits_cleanly_and_keeps_no_image(demo) -> None:
    running, data_dir = demo
    assert running.process.wait(timeout=DURATION_S + 60) == 0
    assert {p.name for p in data_dir.glob("history-*.sqlite3")} == {
        "history-demo-station.sqlite3",
        "history-pets2009.sqlite3",
    }
    assert not [p for p in data_dir.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".avi"}]
    output = "".join(running.lines)
    assert "Traceback" not in output and "recording_ended" not in output
