"""`crowdmap demo` as a user runs it: real processes, real HTTP and Socket.IO on loopback.

The demo announces its URL only once every process is ready, its first train arrives 20 s after
that and ``--duration`` counts from it too; so however long the start takes on a loaded machine,
the 150 s the test watches hold the surge. A recorder polls the crowding API once a second from
the moment the URL appears until the demo exits, so no test misses the surge by running late.
"""

import itertools

import pytest

from tests.harness.demo import get_json, public_frames, run_demo

DURATION_S = 150
# Six simulated cameras, an aggregator and a web server starting on two shared cores.
START_TIMEOUT_S = 300

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("demo-data")
    with run_demo(["--duration", str(DURATION_S)], data_dir=data_dir, start_timeout_s=START_TIMEOUT_S) as running:
        running.record("/api/v1/stations/demo-station/crowding")
        yield running, data_dir


def test_demo_prints_the_url_and_lists_the_station(demo) -> None:
    running, _ = demo
    url_line = next(line for line in running.lines if "public map at" in line)
    assert running.base in url_line
    # The server answers as soon as the URL is out: the demo announces it only when ready.
    stations = get_json(f"{running.base}/api/v1/stations")["stations"]
    assert [s["id"] for s in stations] == ["demo-station"]
    assert stations[0]["name"]["ja"] and stations[0]["name"]["en"]
    assert len(stations[0]["floors"]) == 2


def test_demo_serves_moving_dots_and_zone_levels_over_rest_and_socketio(demo) -> None:
    running, _ = demo
    received = public_frames(running.base, "demo-station", enough=lambda got: len(got) >= 8, timeout_s=30)
    assert len(received) >= 8, "expected about one frame a second"
    assert all(frame["station"] == "demo-station" for frame in received)
    timestamps = [frame["timestamp"] for frame in received]
    assert timestamps == sorted(timestamps)

    dots = [[d for floor in frame["floors"] for d in floor["dots"]] for frame in received]
    assert max(len(d) for d in dots[-4:]) > 0, "the simulated station should have people in it"
    assert any(sorted(map(tuple, a)) != sorted(map(tuple, b)) for a, b in itertools.pairwise(dots))
    assert any(d[2] == 1 for frame_dots in dots for d in frame_dots), "someone should be walking"

    latest = get_json(f"{running.base}/api/v1/stations/demo-station/crowding")
    assert latest["station"] == "demo-station"
    zones = [z for floor in latest["floors"] for z in floor["zones"]]
    assert len(zones) >= 6
    for zone in zones:
        assert set(zone) == {"id", "count", "density_per_m2", "level", "los", "stale"}
        assert 0 <= zone["level"] <= 3 and zone["los"] in "ABCDEF"
    assert not all(zone["stale"] for zone in zones)


def test_demo_exits_cleanly_after_its_duration(demo) -> None:
    running, data_dir = demo
    assert running.process.wait(timeout=DURATION_S + 60) == 0
    # Only aggregates are stored: the history database exists, and no image file was written anywhere.
    assert list(data_dir.glob("history-demo-station.sqlite3"))
    assert not [p for p in data_dir.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp", ".avi"}]


def test_the_train_after_the_start_raises_crowding_levels(demo) -> None:
    # Runs after the demo has exited, on the whole recorded run: the first train arrives 20 s
    # after the URL appeared, and at the foot of the stairs its crowd reaches Fruin's LOS C or
    # worse (public "busy" or worse) on the map before the run ends; before it, all is quiet.
    running, _ = demo
    assert running.process.wait(timeout=DURATION_S + 60) == 0
    timeline = running.timeline
    assert len(timeline) >= DURATION_S * 0.6, f"only {len(timeline)} samples in {DURATION_S} s"
    started_s = timeline[0]["timestamp"]

    def zones(sample: dict) -> dict[str, dict]:
        return {z["id"]: z for floor in sample["floors"] for z in floor["zones"]}

    before = [s for s in timeline if s["timestamp"] < started_s + 15.0]
    after = [s for s in timeline if s["timestamp"] >= started_s + 20.0]
    quiet = [zone_id for zone_id in zones(timeline[0]) if all(zones(s)[zone_id]["level"] == 0 for s in before)]
    risen = {
        zone_id: max(zones(s)[zone_id]["los"] for s in after)
        for zone_id in quiet
        if max(zones(s)[zone_id]["level"] for s in after) >= 1
    }
    assert risen, f"no zone went from quiet to busy or worse: {[zones(s) for s in timeline[::10]]}"
    assert all(los >= "C" for los in risen.values()), risen
