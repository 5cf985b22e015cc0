"""Benchmark: the demo station's pedestrian simulation, ms per simulated second, against a dense baseline.

Run from the project root::

    .venv/bin/python bench/simulator.py [--seconds 120] [--scale 2.0]

Every edge process of ``crowdmap demo`` runs its own copy of the simulation, so its cost is paid
once per camera. Measured in one run, on the same crowds:

- start-up: building the station plan (rasters, flow fields) and a ``Simulation`` (which includes
  ``warmup_s`` of simulated time);
- ``advance_to(t + 1 s)`` at the default demand and at ``--scale`` times the demand (about 300
  people in the station), as medians over ``--seconds`` consecutive seconds;
- the same with the baseline: the textbook dense social force, every person against every
  other person on the floor with (n, n, 2) arrays, in place of the simulator's pairs-in-range
  version (same physics, same result up to rounding);
- ``observe`` for each camera: one simulated detector frame.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=120, help="simulated seconds timed per workload")
    parser.add_argument("--scale", type=float, default=2.0, help="demand multiplier of the busy workload")
    args = parser.parse_args()
    layout = load_layout(DEMO)
    default = SimulationConfig()
    busy = dataclasses.replace(
        default,
        passer_by_per_s=default.passer_by_per_s * args.scale,
        departing_per_s=default.departing_per_s * args.scale,
        alighting_mean=default.alighting_mean * args.scale,
    )

    build_ms = []
    for _ in range(3):
        start = time.process_time()
        plan = build_plan(layout, default)
        build_ms.append((time.process_time() - start) * 1000.0)
    fields = sum(len(floor.field_targets_m) for floor in plan.floors.values())
    print(f"plan build (rasters + {fields} flow fields): {statistics.median(build_ms):.0f} ms CPU, median of 3")
    plan_for(layout, default)
    start = time.process_time()
    Simulation(layout, seed=0, start_s=0.0, config=default)
    warm = default.warmup_s
    print(f"Simulation() incl. {warm:.0f} s warm-up (plan cached): {time.process_time() - start:.2f} s CPU")

    print(f"\nCPU ms per simulated second, median over {args.seconds} s (people in the station: median / max)")
    print(f"{'workload':<22}{'people':>12}{'simulator':>12}{'baseline':>12}{'ratio':>8}")
    for name, config in (("default demand", default), (f"{args.scale:g}x demand", busy)):
        sim_fast = Simulation(layout, seed=1, start_s=0.0, config=config)
        sim_base = Simulation(layout, seed=1, start_s=0.0, config=config)
        fast_ms, base_ms, people = [], [], []
        original = forces.social_force
        # Interleaved second by second, so both see the same load on the machine.
        for _ in range(args.seconds):
            fast_ms.append(advance_one_second(sim_fast))
            people.append(people_in(sim_fast))
            forces.social_force = dense_social_force
            try:
                base_ms.append(advance_one_second(sim_base))
            finally:
                forces.social_force = original
        fast, base = statistics.median(fast_ms), statistics.median(base_ms)
        crowd = f"{statistics.median(people):.0f} / {max(people)}"
        print(f"{name:<22}{crowd:>12}{fast:>12.1f}{base:>12.1f}{base / fast:>7.1f}x")

    sim = Simulation(layout, seed=1, start_s=0.0, config=busy)
    sim.advance_to(60.0)
    print("\nobserve(), CPU ms per detector frame, median of 50 (busy crowd)")
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
