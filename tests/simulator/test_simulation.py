"""The simulated crowd: deterministic, walking at human speeds, on the floor, queuing, riding trains, a rush."""

import itertools
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import shapely
import yaml

from simulator import PlanError, Simulation, SimulationConfig
from station import StationLayout, parse_layout

FAST = SimulationConfig(warmup_s=30.0)
START_S = 1_700_000_000.0  # a unix time, as the runtime passes it
DEMO = Path(__file__).resolve().parents[2] / "station_layouts" / "demo-station"


@dataclass
class Recording:
    """One second-by-second run of the default demo station."""

    times_s: np.ndarray
    positions: dict[str, list[np.ndarray]]
    velocities: dict[str, list[np.ndarray]]
    gate_queues: list[list[int]]
    in_transit: list[int]
    trains: list[tuple[float, int]]


@pytest.fixture(scope="module")
def recording(demo_layout: StationLayout) -> Recording:
    sim = Simulation(demo_layout, seed=11, start_s=START_S)
    times = START_S + np.arange(0.0, 400.0, 1.0)
    record = Recording(times, {"concourse": [], "platform": []}, {"concourse": [], "platform": []}, [], [], [])
    for t in times:
        sim.advance_to(t)
        for floor_id in record.positions:
            record.positions[floor_id].append(sim.positions(floor_id))
            record.velocities[floor_id].append(sim.velocities(floor_id))
        record.gate_queues.append(sim.queue_lengths("gate"))
        record.in_transit.append(sim.in_transit())
    record.trains = sim.train_arrivals_s(START_S, START_S + 400.0)
    return record


def _count_in(layout: StationLayout, zone_ids: list[str], points: np.ndarray) -> int:
    polygons = [zone.polygon for zone in layout.zones if zone.id in zone_ids]
    inside = np.zeros(len(points), dtype=bool)
    for polygon in polygons:
        inside |= shapely.contains_xy(polygon, points[:, 0], points[:, 1])
    return int(inside.sum())


def test_same_seed_and_start_give_the_same_crowd_however_it_is_advanced(demo_layout: StationLayout) -> None:
    coarse = Simulation(demo_layout, seed=3, start_s=START_S, config=FAST)
    fine = Simulation(demo_layout, seed=3, start_s=START_S, config=FAST)
    for t in START_S + np.array([10.0, 45.0, 90.0]):
        coarse.advance_to(t)
        for partial in np.arange(fine.time_s, t, 0.37):
            fine.advance_to(partial)
        fine.advance_to(t)
        for floor_id in ("concourse", "platform"):
            assert len(coarse.positions(floor_id)) > 0
            np.testing.assert_array_equal(coarse.positions(floor_id), fine.positions(floor_id))


def test_a_pickled_copy_carries_on_with_the_same_crowd(demo_layout: StationLayout) -> None:
    # A runtime may warm one simulation up and hand copies to its worker processes.
    original = Simulation(demo_layout, seed=5, start_s=START_S, config=FAST)
    copy = pickle.loads(pickle.dumps(original))
    original.advance_to(START_S + 30.0)
    copy.advance_to(START_S + 30.0)
    for floor_id in ("concourse", "platform"):
        np.testing.assert_array_equal(original.positions(floor_id), copy.positions(floor_id))


def test_another_seed_gives_another_crowd(demo_layout: StationLayout) -> None:
    one = Simulation(demo_layout, seed=1, start_s=START_S, config=FAST)
    two = Simulation(demo_layout, seed=2, start_s=START_S, config=FAST)
    a, b = one.positions("concourse"), two.positions("concourse")
    assert len(a) != len(b) or not np.array_equal(a, b)


def test_people_walk_at_about_1_3_m_per_s(recording: Recording) -> None:
    speeds = []
    for floor_id in recording.positions:
        for points, velocity in zip(recording.positions[floor_id], recording.velocities[floor_id], strict=True):
            if len(points) < 2:
                continue
            gaps = np.linalg.norm(points[:, None] - points[None], axis=2)
            np.fill_diagonal(gaps, np.inf)
            alone = gaps.min(axis=1) > 2.0
            speed = np.linalg.norm(velocity, axis=1)
            # Walking (not standing in a queue or at a shop) and with nobody near.
            speeds.extend(speed[alone & (speed > 0.5)])
    assert len(speeds) > 1000
    assert 1.15 <= np.median(speeds) <= 1.45
    assert 0.1 <= np.std(speeds) <= 0.35


def test_everyone_stays_on_walkable_floor(recording: Recording, demo_layout: StationLayout) -> None:
    for floor_id, snapshots in recording.positions.items():
        floor = demo_layout.floor(floor_id)
        # Half a raster cell of slack: the simulation's walkable raster is 0.1 m.
        area = floor.walkable.buffer(0.08)
        obstacles = shapely.union_all([shapely.Polygon(p) for p in floor.obstacles_m]).buffer(-0.08)
        points = np.vstack(snapshots)
        assert shapely.contains_xy(area, points[:, 0], points[:, 1]).all()
        assert not shapely.contains_xy(obstacles, points[:, 0], points[:, 1]).any()


def test_queues_form_at_the_gates_after_a_train(recording: Recording) -> None:
    for arrival_s, _ in recording.trains:
        window = (recording.times_s > arrival_s) & (recording.times_s <= arrival_s + 90.0)
        if not window.any() or recording.times_s[window][-1] < arrival_s + 89.0:
            continue
        longest = max(max(queues) for queues, w in zip(recording.gate_queues, window, strict=True) if w)
        waiting = max(sum(queues) for queues, w in zip(recording.gate_queues, window, strict=True) if w)
        assert longest >= 3
        assert waiting >= 10
        return
    pytest.fail("no complete train window in the recording")


def _zone_density_per_m2(layout: StationLayout, zone_id: str, snapshots: list[np.ndarray]) -> np.ndarray:
    """True density of a zone each second, as the iconizer smooths it: a 10 s running mean."""
    zone = next(z for z in layout.zones if z.id == zone_id)
    area_m2 = zone.polygon.intersection(layout.floor(zone.floor).walkable).area
    counts = np.array([_count_in(layout, [zone_id], points) for points in snapshots], dtype=np.float64)
    window = int(layout.publishing.density_window_s)
    return np.convolve(counts, np.ones(window) / window)[: len(counts)] / area_m2


def test_the_foot_of_the_stairs_is_at_los_d_for_about_a_minute_after_a_train_then_clears(
    recording: Recording, demo_layout: StationLayout
) -> None:
    zone = next(z for z in demo_layout.zones if z.id == "platform-stairs")
    los_c, los_d = zone.los_bounds_per_m2[1], zone.los_bounds_per_m2[2]
    density = _zone_density_per_m2(demo_layout, "platform-stairs", recording.positions["platform"])
    checked = 0
    for (arrival_s, _), (next_s, _) in itertools.pairwise(recording.trains):
        window = (recording.times_s >= arrival_s) & (recording.times_s < next_s)
        if recording.times_s[window][-1] < next_s - 1.0:
            continue
        seconds_at_d = int((density[window] > los_d).sum())
        assert 40 <= seconds_at_d <= 150, f"LOS D or worse for {seconds_at_d} s after the train at {arrival_s}"
        # The stairs take the crowd away before the next train brings another.
        assert density[window][-20:].min() < los_c
        checked += 1
    assert checked >= 1


def test_each_train_brings_its_passengers_once(demo_layout: StationLayout) -> None:
    # Steps must tile time exactly: a step boundary that rounding put on both sides of a train's
    # arrival once released that train's passengers twice.
    config = SimulationConfig()
    sim = Simulation(demo_layout, seed=1, start_s=0.0, config=config)
    (arrival_s, _), *_ = sim.train_arrivals_s(0.0, config.train_interval_s)
    sim.advance_to(arrival_s - 0.5)
    before = len(sim.positions("platform"))
    sim.advance_to(arrival_s + 25.0)
    gained = len(sim.positions("platform")) - before
    assert 0.5 * config.alighting_mean < gained < 1.2 * config.alighting_mean


def test_people_change_floors_by_the_stairs(recording: Recording) -> None:
    assert max(recording.in_transit) > 0
    # A train brings people onto the platform who then turn up on the concourse.
    concourse = [len(p) for p in recording.positions["concourse"]]
    assert max(concourse) > min(concourse) + 30


def test_people_wait_on_the_platform_before_a_train(recording: Recording) -> None:
    for arrival_s, _ in recording.trains:
        before = np.flatnonzero((recording.times_s > arrival_s - 5.0) & (recording.times_s <= arrival_s))
        if len(before):
            waiting = recording.positions["platform"][before[-1]]
            assert len(waiting) >= 20
            return
    pytest.fail("no train arrival in the recording")


def test_time_only_moves_forward(demo_layout: StationLayout) -> None:
    sim = Simulation(demo_layout, seed=0, start_s=START_S, config=FAST)
    with pytest.raises(ValueError, match="cannot go back in time"):
        sim.advance_to(START_S - 10.0)
    with pytest.raises(KeyError, match="no floor 'basement'"):
        sim.positions("basement")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"step_s": 0.0}, "step_s must be positive"),
        ({"step_s": 1.0}, "step_s must be at most 0.5"),
        ({"warmup_step_s": 2.0}, "warmup_step_s must be at most 0.5"),
        ({"train_dwell_s": 200.0}, "train_dwell_s .* must be shorter"),
        ({"shop_visit_probability": 1.5}, r"shop_visit_probability must lie in \[0, 1\]"),
        ({"shop_dwell_s": (30.0, 10.0)}, "low <= high"),
        ({"departing_per_s": -1.0}, "must not be negative"),
        ({"doors_per_side": 0}, "doors_per_side must be at least 1"),
    ],
)
def test_bad_settings_are_refused(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SimulationConfig(**changes)


def _demo_without(kind: str) -> StationLayout:
    mapping = yaml.safe_load((DEMO / "layout.yaml").read_text(encoding="utf-8"))
    for floor in mapping["floors"]:
        floor["features"] = [f for f in floor["features"] if f["kind"] != kind]
    return parse_layout(mapping)


@pytest.mark.parametrize(
    ("kind", "message"),
    [("exit", "no exit feature"), ("platform-edge", "no platform-edge feature"), ("stairs", "no stairs")],
)
def test_a_layout_without_what_the_simulation_needs_is_refused(kind: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        Simulation(_demo_without(kind), seed=0, start_s=0.0, config=FAST)
