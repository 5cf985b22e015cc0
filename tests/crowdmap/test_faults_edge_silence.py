"""A killed edge sends no "dead" status: the aggregator notices the silence and marks its zones stale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crowdmap.station import load_station
from crowdmap.tiers.aggregate_process import ProbedStepper
from crowdmap.tiers.ops import Heartbeat
from homography.types import FloorPositions
from iconizer.stepper import Iconizer
from iconizer.types import CameraStatus

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def watched() -> tuple[ProbedStepper, Clock]:
    station = load_station(str(ROOT / "station_layouts" / "pets2009"))
    clock = Clock()
    iconizer = Iconizer(station.layout, rng=np.random.default_rng(1), coarsen_m=0.0)
    return ProbedStepper(iconizer, Heartbeat("tick", 10.0, clock), silence_s=3.0, clock=clock), clock


def report(stepper: ProbedStepper, clock: Clock, state: str = "live") -> None:
    """What a healthy edge sends every second: its camera's status and positions (edge clock = wall clock here)."""
    stepper.update_camera(CameraStatus("view-001", clock.now_s, state, 10.0, 0.1))
    xy = np.array([[5.0, 18.0], [12.0, 10.0]])
    stepper.ingest(FloorPositions("view-001", "ground", clock.now_s, xy, [0.9, 0.9], [0.1, 0.1]))


def stale(stepper: ProbedStepper, clock: Clock) -> bool:
    (frame,) = stepper.step(clock.now_s)
    flags = {zone.stale for zone in frame.zones}
    assert len(flags) == 1, "one camera covers every zone of this station"
    return flags.pop()


@pytest.mark.parametrize(
    ("silent_s", "expected_stale"),
    [(1.0, False), (2.9, False), (3.1, True), (4.0, True)],
)
def test_zones_turn_stale_once_the_edge_is_silent_for_longer_than_the_limit(watched, silent_s, expected_stale):
    stepper, clock = watched
    report(stepper, clock)
    assert not stale(stepper, clock)
    clock.now_s += silent_s
    assert stale(stepper, clock) is expected_stale
    assert (stepper.cameras["view-001"].state == "dead") is expected_stale


def test_the_edge_coming_back_makes_its_zones_live_again(watched):
    stepper, clock = watched
    report(stepper, clock)
    clock.now_s += 3.5
    assert stale(stepper, clock)
    assert stepper.cameras["view-001"].error == "edge_silent"
    clock.now_s += 10.0  # the edge restarts
    report(stepper, clock)
    assert not stale(stepper, clock)
    assert stepper.cameras["view-001"].state == "live" and not stepper.silenced


def test_a_silence_limit_the_edges_cannot_meet_is_refused():
    with pytest.raises(ValueError, match="status interval"):
        ProbedStepper(None, Heartbeat("tick", 10.0), silence_s=1.5)
