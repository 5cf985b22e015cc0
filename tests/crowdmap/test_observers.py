"""The simulated camera: its crowd runs on the station's clock, which starts when the station does."""

import dataclasses

import numpy as np
import pytest

from crowdmap.observers import SimulatedObserver, make_observer_factory
from homography.fitting import calibrate_camera
from simulator import Simulation, SimulationConfig
from station import bundled, load_layout


@pytest.fixture(scope="module")
def demo():
    layout = load_layout(bundled("demo-station"))
    camera = layout.camera("platform-stairs")
    return layout, camera, calibrate_camera(camera)


def test_the_crowd_waits_for_the_clock_then_runs_on_station_time(demo) -> None:
    layout, camera, calib = demo
    observer = SimulatedObserver(layout, camera, calib, seed=7, first_train_after_s=20.0)
    with pytest.raises(RuntimeError, match="clock has not been started"):
        observer.observe(1_000.0)
    epoch_s = 1_796_000_000.0
    observer.start_clock(epoch_s)
    detections = observer.observe(epoch_s + 60.0)
    # Reported at wall time, seen in the crowd 60 s after the station's start.
    assert detections.timestamp_s == epoch_s + 60.0
    config = dataclasses.replace(SimulationConfig(), train_offset_s=20.0)
    reference = Simulation(layout, seed=7, start_s=0.0, config=config)
    reference.advance_to(60.0)
    np.testing.assert_array_equal(observer._sim.positions("platform"), reference.positions("platform"))
    assert observer._sim.train_arrivals_s(0.0, 180.0) == [(20.0, 0)]


def test_every_camera_of_a_station_with_one_seed_and_epoch_watches_the_same_crowd(demo) -> None:
    layout, _, _ = demo
    build = make_observer_factory({"seed": 3, "epoch_s": 500.0, "first_train_after_s": 20.0})
    observers = [build(layout, c, calibrate_camera(c)) for c in layout.cameras if c.floor == "platform"]
    for observer in observers:
        observer.observe(540.0)
    crowds = [o._sim.positions("platform") for o in observers]
    for crowd in crowds[1:]:
        np.testing.assert_array_equal(crowd, crowds[0])
