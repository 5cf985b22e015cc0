"""How crowded the simulated rush gets: per-zone densities and levels of service through train arrivals.

Run from the project root::

    .venv/bin/python bench/simulator_rush.py [--trains 2] [--seed 2009] [--old-demand]

It runs the demo station as ``crowdmap demo`` does, without processes: the simulation, each
simulated camera's detector (``simulator.observe``), the projection to the floor and the real
iconizer (fusion, 10 s density window, Fruin LOS and public levels of each zone's layout bounds),
one step per second for ``--trains`` train intervals after a train arriving 20 s in. Per zone it
prints the peak density and LOS of the true crowd (everyone, counted in the zone's walkable area,
averaged over the same 10 s window) and of what the map publishes (cameras: coverage, misses,
noise), and how many seconds each spent at LOS D or worse; then the longest gate queues and how
many people the stairs and escalator took per second. ``--old-demand`` runs the demand the demo
had before the rush was made realistic (``simulator.config.off_peak``: 160 people a train).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import defaultdict, deque
from pathlib import Path

if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import numpy as np
import shapely

from crowdmap.station import load_station
from crowdmap.wiring import build_iconizer
from homography.positions import foot_points_to_floor
from simulator import Simulation, SimulationConfig, observe
from simulator.config import off_peak

FIRST_TRAIN_S = 20.0
LOS = "ABCDEF"


def grade(density: float, bounds: tuple[float, ...]) -> int:
    return int(np.searchsorted(np.asarray(bounds), density, side="right"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trains", type=int, default=2, help="train intervals to run")
    parser.add_argument("--seed", type=int, default=2009, help="simulation seed (the demo's)")
    parser.add_argument("--station", default="demo-station", help="layout folder or bundled name")
    parser.add_argument("--old-demand", action="store_true", help="the demand before the rush was made realistic")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="override a SimulationConfig setting"
    )
    args = parser.parse_args()

    station = load_station(args.station)
    layout = station.layout
    config = dataclasses.replace(SimulationConfig(), train_offset_s=FIRST_TRAIN_S)
    if args.old_demand:
        config = off_peak(config)
    for item in args.set:
        name, _, value = item.partition("=")
        config = dataclasses.replace(config, **{name: type(getattr(config, name))(value)})
    sim = Simulation(layout, seed=args.seed, start_s=0.0, config=config)
    iconizer = build_iconizer(station, seed=args.seed)
    rngs = {c.id: np.random.default_rng([args.seed, sum(map(ord, c.id))]) for c in layout.cameras}
    window = int(layout.publishing.density_window_s)
    zones = {z.id: z for z in layout.zones}
    areas = {z.id: z.polygon.intersection(layout.floor(z.floor).walkable).area for z in layout.zones}
    recent: dict[str, deque] = {z: deque(maxlen=window) for z in zones}
    true_peak: dict[str, tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))
    map_peak: dict[str, tuple[float, float, int]] = defaultdict(lambda: (0.0, 0.0, 0))
    true_bad_s: dict[str, int] = defaultdict(int)
    map_bad_s: dict[str, int] = defaultdict(int)
    longest_gate, gate_waiting = (0, 0.0), (0, 0.0)
    duration_s = int(args.trains * config.train_interval_s)
    served_before = sim.in_transit()
    for t in range(0, duration_s + 1):
        now_s = float(t)
        sim.advance_to(now_s)
        for camera in layout.cameras:
            detections = observe(sim, camera, station.calibrations[camera.id], now_s, rngs[camera.id])
            iconizer.ingest(
                foot_points_to_floor(
                    foot_px=detections.foot_px,
                    confidence=detections.confidence,
                    calib=station.calibrations[camera.id],
                    floor=layout.floor(camera.floor),
                    camera_id=camera.id,
                    timestamp_s=now_s,
                    pixel_sigma_px=camera.pixel_sigma_px,
                )
            )
        for frame in iconizer.step(now_s):
            for zone in frame.zones:
                if zone.density_per_m2 > map_peak[zone.zone_id][1]:
                    map_peak[zone.zone_id] = (now_s, zone.density_per_m2, zone.level)
                map_bad_s[zone.zone_id] += LOS.index(zone.los) >= 3
        for zone_id, zone in zones.items():
            points = sim.positions(zone.floor)
            count = int(shapely.contains_xy(zone.polygon, points[:, 0], points[:, 1]).sum())
            recent[zone_id].append(count / areas[zone_id])
            density = float(np.mean(recent[zone_id]))
            if density > true_peak[zone_id][1]:
                true_peak[zone_id] = (now_s, density)
            true_bad_s[zone_id] += grade(density, zone.los_bounds_per_m2) >= 3
        gates = sim.queue_lengths("gate")
        if max(gates) > longest_gate[0]:
            longest_gate = (max(gates), now_s)
        if sum(gates) > gate_waiting[0]:
            gate_waiting = (sum(gates), now_s)
    del served_before

    arrivals = ", ".join(f"{t:.0f} s" for t, _ in sim.train_arrivals_s(0.0, duration_s + 1.0))
    name = "old demand" if args.old_demand else "default demand"
    print(f"demo station, {name}, seed {args.seed}: trains at {arrivals}; {window} s density window")
    print(f"{'zone':<18}{'kind':<9}{'true peak /m2':>14}{'LOS':>4}{'at':>7}{'s >= D':>8}"
          f"{'map peak /m2':>14}{'LOS':>4}{'level':>6}{'s >= D':>8}")  # fmt: skip
    for zone_id, zone in zones.items():
        t_at, t_peak = true_peak[zone_id]
        _, m_peak, m_level = map_peak[zone_id]
        print(
            f"{zone_id:<18}{zone.kind:<9}{t_peak:>14.2f}{LOS[grade(t_peak, zone.los_bounds_per_m2)]:>4}"
            f"{t_at:>6.0f}s{true_bad_s[zone_id]:>8}{m_peak:>14.2f}{LOS[grade(m_peak, zone.los_bounds_per_m2)]:>4}"
            f"{m_level:>6}{map_bad_s[zone_id]:>8}"
        )
    print(f"longest gate queue: {longest_gate[0]} people at {longest_gate[1]:.0f} s; "
          f"most waiting at the gates: {gate_waiting[0]:.0f} at {gate_waiting[1]:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
