"""The edge process's ``/metrics``: each camera's detector time per frame, next to its frame budget."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from crowdmap.observers import make_observer_factory
from crowdmap.station import load_station
from crowdmap.tiers.edge_process import DETECTOR_TIMING_FRAMES, CameraRunner, DetectorTiming, edge_metrics
from crowdmap.tiers.ops import FunctionCollector

ROOT = Path(__file__).resolve().parents[3]
PETS_VIDEO = ROOT.parent / "shared" / "data" / "pets2009_s2l1" / "vtest.avi"


def scrape(runners: list[CameraRunner]) -> dict[tuple[str, tuple], float]:
    """What Prometheus reads from ``/metrics``: (sample name, labels) -> value."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(FunctionCollector(lambda: edge_metrics(runners)))
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_each_camera_reports_its_detector_seconds_per_frame(make_publisher) -> None:
    station = load_station(str(ROOT / "station_layouts" / "pets2009"))
    factory = make_observer_factory({"video": str(PETS_VIDEO), "realtime": False, "backend": "fake"})
    stop = threading.Event()
    runner = CameraRunner(station.layout, "view-001", station.calibrations["view-001"], make_publisher(), factory, stop)
    camera = (("camera", "view-001"),)
    before = scrape([runner])
    assert before[("crowdmap_edge_detector_seconds_count", camera)] == 0
    assert ("crowdmap_edge_detector_seconds_per_frame", camera) not in before  # unknown until a frame
    runner.thread.start()
    deadline = time.monotonic() + 60
    while runner.frames_seen < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    runner.thread.join(10)
    samples = scrape([runner])
    frames = samples[("crowdmap_edge_detector_seconds_count", camera)]
    assert frames == runner.frames_seen >= 5
    seconds = samples[("crowdmap_edge_detector_seconds_sum", camera)]
    assert seconds > 0
    per_frame = samples[("crowdmap_edge_detector_seconds_per_frame", camera)]
    assert per_frame > 0
    if frames <= DETECTOR_TIMING_FRAMES:  # the recent window still holds every frame
        assert per_frame == pytest.approx(seconds / frames)
    # view-001 runs at target_fps 10: a frame may take 0.1 s.
    assert samples[("crowdmap_edge_camera_frame_budget_seconds", camera)] == pytest.approx(0.1)


def test_the_recent_mean_follows_the_last_frames_and_the_totals_only_grow() -> None:
    timing = DetectorTiming()
    assert timing.seconds_per_frame() is None
    for _ in range(DETECTOR_TIMING_FRAMES):
        timing.add(0.05)
    assert timing.seconds_per_frame() == pytest.approx(0.05)
    # The detector slows down (a second camera on the box, a crowd filling the tiles): the recent
    # mean shows it within the window, while the totals keep counting every frame.
    for _ in range(DETECTOR_TIMING_FRAMES):
        timing.add(0.25)
    assert timing.seconds_per_frame() == pytest.approx(0.25)
    assert timing.frames == 2 * DETECTOR_TIMING_FRAMES
    assert timing.seconds_total == pytest.approx(DETECTOR_TIMING_FRAMES * 0.30)
