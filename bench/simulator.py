"""Benchmark: the demo station's pedestrian simulation, ms per simulated second, against a dense baseline.

Run from the project root::

    .venv/bin/python bench/simulator.py [--trains 1] [--scale 1.5]

Every edge process of ``crowdmap demo`` runs its own copy of the simulation, so its cost is paid
once per camera. Measured in one run, on the same crowds:

- start-up: building the station plan (rasters, flow fields, crowd places) and a ``Simulation``
  (which includes ``warmup_s`` of simulated time);
- ``advance_to(t + 1 s)`` through ``--trains`` whole train intervals (a rush and its aftermath),
  CPU per simulated second: mean and worst second, for the off-peak demand the demo had before
  (``simulator.config.off_peak``: 160 people a train), the default rush (500 a train) and
  ``--scale`` times the rush's demand; and the ratio of the rush's cost to the off-peak cost;
- the same with the baseline: the textbook dense social force, every person against every
  other person on the floor with (n, n, 2) arrays, in place of the simulator's pairs-in-range
  version (same physics, same result up to rounding);
- ``observe`` for each camera: one simulated detector frame, at the peak of a rush.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import numpy as np

from homography.fitting import calibrate_camera
from simulator import Simulation, SimulationConfig, forces, observe
from simulator.config import off_peak
from simulator.plan import build_plan
from simulator.simulation import plan_for
from station import load_layout

DEMO = Path(__file__).resolve().parents[1] / "station_layouts" / "demo-station"


def dense_social_force(pos: np.ndarray, heading: np.ndarray, others: np.ndarray) -> np.ndarray:
    """The baseline: all pairs as (m, n, 2) arrays, no range cut before the exponentials."""
    offset = pos[:, None, :] - others[None, :, :]
    distance = np.linalg.norm(offset, axis=2)
    self_pair = distance < 1e-9
    normal = offset / np.where(self_pair, 1.0, distance)[:, :, None]
    facing = -np.einsum("ijk,ik->ij", normal, heading)
    weight = forces.BEHIND_WEIGHT + (1.0 - forces.BEHIND_WEIGHT) * (1.0 + facing) / 2.0
    magnitude = forces.PUSH_MPS2 * np.exp((2 * forces.BODY_RADIUS_M - distance) / forces.PUSH_RANGE_M) * weight
    magnitude[self_pair | (distance >= forces.INTERACTION_RANGE_M)] = 0.0
    return np.einsum("ij,ijk->ik", magnitude, normal)


def advance_one_second(sim: Simulation) -> float:
    """CPU time (ms) of one ``advance_to(t + 1)``: CPU, not wall, because the machine is shared."""
    target = sim.time_s + 1.0
    start = time.process_time()
    sim.advance_to(target)
    return (time.process_time() - start) * 1000.0


def people_in(sim: Simulation) -> int:
    return sum(len(sim.positions(floor.id)) for floor in sim.layout.floors) + sim.in_transit()


def time_interval(layout, config: SimulationConfig, seconds: int) -> dict[str, float]:
    """CPU per simulated second over ``seconds``: simulator and baseline interleaved second by second."""
    sim_fast = Simulation(layout, seed=1, start_s=0.0, config=config)
    sim_base = Simulation(layout, seed=1, start_s=0.0, config=config)
    fast_ms, base_ms, people = [], [], []
    original = forces.social_force
    # Interleaved, so both see the same load on the machine.
    for _ in range(seconds):
        fast_ms.append(advance_one_second(sim_fast))
        people.append(people_in(sim_fast))
        forces.social_force = dense_social_force
        try:
            base_ms.append(advance_one_second(sim_base))
        finally:
            forces.social_force = original
    return {
        "people_median": statistics.median(people),
        "people_max": max(people),
        "fast_mean": statistics.fmean(fast_ms),
        "fast_max": max(fast_ms),
        "base_mean": statistics.fmean(base_ms),
        "base_max": max(base_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trains", type=int, default=1, help="train intervals timed per workload")
    parser.add_argument("--scale", type=float, default=1.5, help="demand multiplier of the busiest workload")
    args = parser.parse_args()
    layout = load_layout(DEMO)
    default = SimulationConfig()
    busy = dataclasses.replace(
        default,
        passer_by_per_s=default.passer_by_per_s * args.scale,
        departing_per_s=default.departing_per_s * args.scale,
        alighting_mean=default.alighting_mean * args.scale,
        train_dwell_s=default.train_dwell_s * args.scale,
    )

    build_ms = []
    for _ in range(3):
        start = time.process_time()
        plan = build_plan(layout, default)
        build_ms.append((time.process_time() - start) * 1000.0)
    fields = sum(len(floor.field_targets_m) for floor in plan.floors.values())
    print(f"plan build (rasters + {fields} flow fields): {statistics.median(build_ms):.0f} ms CPU, median of 3")
    for name, config in (("off-peak", off_peak(default)), ("rush", default)):
        plan_for(layout, config)
        start = time.process_time()
        Simulation(layout, seed=0, start_s=0.0, config=config)
        warm = config.warmup_s
        print(f"Simulation() incl. {warm:.0f} s warm-up (plan cached), {name}: {time.process_time() - start:.2f} s CPU")

    seconds = int(args.trains * default.train_interval_s)
    print(f"\nCPU ms per simulated second over {seconds} s (people in the station: median / max)")
    print(f"{'workload':<30}{'people':>12}{'simulator mean/max':>20}{'baseline mean/max':>20}{'ratio':>8}")
    results = {}
    for name, config in (
        ("off-peak (160 a train)", off_peak(default)),
        (f"rush ({default.alighting_mean:.0f} a train)", default),
        (f"{args.scale:g}x rush", busy),
    ):
        result = results[name] = time_interval(layout, config, seconds)
        crowd = f"{result['people_median']:.0f} / {result['people_max']}"
        fast = f"{result['fast_mean']:.1f} / {result['fast_max']:.0f}"
        base = f"{result['base_mean']:.1f} / {result['base_max']:.0f}"
        print(f"{name:<30}{crowd:>12}{fast:>20}{base:>20}{result['base_mean'] / result['fast_mean']:>7.1f}x")
    old, new = list(results.values())[:2]
    print(f"rush / off-peak, simulator CPU per simulated second: {new['fast_mean'] / old['fast_mean']:.2f}x")

    sim = Simulation(layout, seed=1, start_s=0.0, config=default)
    sim.advance_to(default.train_offset_s + 45.0)
    print("\nobserve(), CPU ms per detector frame, median of 50 (45 s after a rush-hour train)")
    rng = np.random.default_rng(0)
    for camera in layout.cameras:
        calib = calibrate_camera(camera)
        frame_ms, found = [], []
        for _ in range(50):
            start = time.process_time()
            detections = observe(sim, camera, calib, sim.time_s, rng)
            frame_ms.append((time.process_time() - start) * 1000.0)
            found.append(len(detections))
        print(f"  {camera.id:<18}{statistics.median(frame_ms):>7.2f}  ({statistics.median(found):.0f} boxes)")


if __name__ == "__main__":
    main()
