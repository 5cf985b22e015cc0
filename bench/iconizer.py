"""Benchmark: one iconizer step at 300 people and 30 zones, against a naive per-point baseline.

Run from the project root::

    .venv/bin/python bench/iconizer.py [--people 300] [--zones 30] [--steps 400]

Reports medians (microseconds) of:
- the full step (ingest one camera's positions + ``Iconizer.step``), with identity fusion (the
  iconizer's own cost) and with ``iconizer.fusion.fuse``;
- zone assignment alone: ``ZoneIndex.counts`` (shapely 2 STRtree, vectorised) against the
  baseline, a per-point loop over ``Polygon.contains(Point)`` for every zone;
- the same step with the baseline zone assignment in place of the vectorised one;
- a replay of the real Grand Central annotations (5,741 frames, up to 289 people) through the
  grand-central layout: median and worst step.

With ``--accuracy`` it also measures the moving/stopped flag against true speeds on the PETS
ground truth and the Grand Central trajectories, for both pairing methods.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and "iconizer" would import this
# file instead of the package.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import numpy as np
import shapely
from shapely.geometry import Point

from homography.fitting import calibrate_camera
from homography.projection import to_floor
from homography.types import FloorPositions
from iconizer.motion import MotionWindow
from iconizer.stepper import Iconizer, fuse_single_camera
from iconizer.zones import ZoneIndex
from station import NOTICE_TEXT_FIELDS, load_layout, parse_layout


def bench_layout(n_zones: int, rng: np.random.Generator):
    """A 100 m x 40 m floor with ``n_zones`` irregular (hexagonal-ish) zones and two pillars."""
    cols = int(np.ceil(np.sqrt(n_zones * 2.5)))
    rows = int(np.ceil(n_zones / cols))
    width, height = 100.0, 40.0
    zones = []
    for k in range(n_zones):
        cx = (k % cols + 0.5) * width / cols
        cy = (k // cols + 0.5) * height / rows
        rx, ry = 0.5 * width / cols, 0.5 * height / rows
        angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
        radius = rng.uniform(0.7, 1.0, 7)
        polygon = [
            (float(cx + rx * r * np.cos(a)), float(cy + ry * r * np.sin(a)))
            for a, r in zip(angles, radius, strict=True)
        ]
        zones.append(
            {
                "id": f"z{k:02d}",
                "floor": "f",
                "name": {"ja": f"区域{k}", "en": f"Zone {k}"},
                "kind": "walkway" if k % 3 else "queuing",
                "polygon_m": polygon,
            }
        )
    mapping = {
        "format_version": 1,
        "station": {"id": "bench", "name": {"ja": "ベンチ", "en": "Bench"}},
        "notice": {
            **{k: {"ja": "x", "en": "x"} for k in NOTICE_TEXT_FIELDS},
            "contact_details": {"email": "privacy@bench.example"},
        },
        "floors": [
            {
                "id": "f",
                "name": {"ja": "f", "en": "f"},
                "size_m": [width, height],
                "walkable_m": [[[0, 0], [width, 0], [width, height], [0, height]]],
                "obstacles_m": [[[20, 18], [22, 18], [22, 20], [20, 20]], [[70, 18], [72, 18], [72, 20], [70, 20]]],
            }
        ],
        "zones": zones,
        "cameras": [
            {
                "id": "cam",
                "floor": "f",
                "source": "sim",
                "resolution_wh": [1920, 1080],
                "calibration": {"image_to_floor": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]},
            }
        ],
    }
    return parse_layout(mapping)


def naive_counts(polygons, xy_m: np.ndarray) -> np.ndarray:
    """Baseline: one shapely predicate per point and zone, in Python loops."""
    counts = np.zeros(len(polygons), dtype=np.int64)
    for x, y in xy_m:
        point = Point(x, y)
        for i, polygon in enumerate(polygons):
            if polygon.intersects(point):
                counts[i] += 1
    return counts


class NaiveZoneIndex:
    """ZoneIndex with the baseline assignment, for the baseline step."""

    def __init__(self, index: ZoneIndex) -> None:
        self._index = index
        self.zone_ids = index.zone_ids
        self.walkable_area_m2 = index.walkable_area_m2
        self._polygons = [shapely.Polygon(p.exterior) for p in index.polygons]  # unprepared

    def __len__(self) -> int:
        return len(self.zone_ids)

    def counts(self, xy_m):
        return naive_counts(self._polygons, np.asarray(xy_m))


def crowd(rng, n, steps, width=100.0, height=40.0):
    """``steps`` sets of ``n`` people, 70 % walking at 1.3 m/s, one set per second."""
    xy = rng.uniform([1, 1], [width - 1, height - 1], size=(n, 2))
    heading = rng.uniform(0, 2 * np.pi, n)
    walking = rng.random(n) < 0.7
    for _ in range(steps):
        yield xy.copy()
        xy += np.where(walking[:, None], 1.3 * np.stack([np.cos(heading), np.sin(heading)], axis=1), 0.0)
        xy += rng.normal(0, 0.05, size=xy.shape)
        # Walls reflect walkers (clipping would pile everyone up along the walls).
        low, high = np.array([0.1, 0.1]), np.array([width - 0.1, height - 0.1])
        xy = np.where(xy < low, 2 * low - xy, xy)
        xy = np.where(xy > high, 2 * high - xy, xy)
        off_x = (xy[:, 0] <= 0.2) | (xy[:, 0] >= width - 0.2)
        off_y = (xy[:, 1] <= 0.2) | (xy[:, 1] >= height - 0.2)
        heading = np.where(off_x, np.pi - heading, heading)
        heading = np.where(off_y, -heading, heading)
        heading += rng.normal(0, 0.1, n)


def time_steps(iconizer: Iconizer, sets, t0: float = 1_790_000_000.0) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (this thread) seconds of ingest + step, per step after a warm-up."""
    wall, cpu = [], []
    for k, xy in enumerate(sets):
        t = t0 + k
        positions = FloorPositions("cam", "f", t, xy, np.ones(len(xy)), np.full(len(xy), 0.3))
        start, start_cpu = time.perf_counter(), time.thread_time()
        iconizer.ingest(positions)
        iconizer.step(t)
        wall.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
    return wall[10:], cpu[10:]


def median_us(samples) -> float:
    return statistics.median(samples) * 1e6


def medians_us(timings: tuple[list[float], list[float]]) -> tuple[float, float]:
    return median_us(timings[0]), median_us(timings[1])


DATA = Path("../shared/data")


def grand_central_sets(layout, max_frames: int | None = None):
    """Per annotated frame (0.8 s apart): (frame, ids, plan positions) through the layout camera."""
    d = np.loadtxt(DATA / "grand_central/all_points.csv", delimiter=",", skiprows=1, dtype=np.int64)
    if max_frames is not None:
        d = d[d[:, 0] < max_frames * 20]
    xy, valid = to_floor(points_px=d[:, 2:4].astype(float), calib=calibrate_camera(layout.cameras[0]))
    d, xy = d[valid], xy[valid]
    bounds = np.flatnonzero(np.diff(d[:, 0])) + 1
    return [
        (int(f[0]), i, p)
        for f, i, p in zip(np.split(d[:, 0], bounds), np.split(d[:, 1], bounds), np.split(xy, bounds), strict=True)
    ]


def pets_sets():
    """Per frame (1/7 s apart): (frame, ids, plan positions) of the PETS ground truth."""
    d = np.loadtxt(DATA / "pets2009_s2l1/ground_truth/gt_full_ground_dev.csv", delimiter=",", skiprows=1)
    xy = np.column_stack([d[:, 4] + 16.0, 10.0 - d[:, 5]])
    frames = d[:, 0].astype(int)
    bounds = np.flatnonzero(np.diff(frames)) + 1
    ids = d[:, 1].astype(int)
    return [
        (int(f[0]), i, p)
        for f, i, p in zip(np.split(frames, bounds), np.split(ids, bounds), np.split(xy, bounds), strict=True)
    ]


def replay_grand_central() -> tuple[float, float, int]:
    layout = load_layout("station_layouts/grand-central")
    iconizer = Iconizer(layout, rng=np.random.default_rng(2), fuse=fuse_single_camera)
    durations, most = [], 0
    for frame, _, xy in grand_central_sets(layout):
        t = 1_790_000_000 + frame / 25.0
        positions = FloorPositions("balcony", "concourse", t, xy, np.ones(len(xy)), np.full(len(xy), 0.3))
        start = time.perf_counter()
        iconizer.ingest(positions)
        iconizer.step(t)
        durations.append(time.perf_counter() - start)
        most = max(most, len(xy))
    return median_us(durations), float(np.percentile(durations, 99)) * 1e6, most


def motion_accuracy(sets, fps: float, step_frames: int, window_s: float, method: str, threshold_m_s: float = 0.5):
    """Moving-flag accuracy against each person's true speed over the same window (ids used only here)."""
    motion = MotionWindow(
        window_s=window_s, min_age_s=min(0.4, window_s), speed_threshold_m_s=threshold_m_s, method=method
    )
    rng = np.random.default_rng(3)
    history: dict[int, dict[int, np.ndarray]] = {}
    tp = tn = fp = fn = 0
    for frame, ids, xy in sets:
        order = rng.permutation(len(xy))  # the iconizer sees no order and no id
        flags = motion.update(frame / fps, xy[order])
        before = history.get(frame - step_frames)
        if before is not None:
            ids_o, xy_o = ids[order], xy[order]
            known = np.array([i in before for i in ids_o.tolist()], dtype=bool)
            if known.any():
                earlier = np.array([before[i] for i in ids_o[known].tolist()])
                truth = np.linalg.norm(xy_o[known] - earlier, axis=1) / (step_frames / fps) > threshold_m_s
                est = flags[known]
                tp += int(np.sum(truth & est))
                tn += int(np.sum(~truth & ~est))
                fp += int(np.sum(~truth & est))
                fn += int(np.sum(truth & ~est))
        history[frame] = dict(zip(ids.tolist(), xy, strict=True))
        history.pop(frame - 3 * step_frames, None)
    n = tp + tn + fp + fn
    return {
        "accuracy": (tp + tn) / n,
        "moving recall": tp / max(tp + fn, 1),
        "stopped recall": tn / max(tn + fp, 1),
        "people-instants": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--zones", type=int, default=30)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--accuracy", action="store_true", help="also measure the moving flag on real trajectories")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    layout = bench_layout(args.zones, rng)
    sets = list(crowd(rng, args.people, args.steps))

    results = {}
    iconizer = Iconizer(layout, rng=np.random.default_rng(1), fuse=fuse_single_camera)
    results["step, identity fusion"] = medians_us(time_steps(iconizer, sets))
    iconizer = Iconizer(layout, rng=np.random.default_rng(1))
    results["step, iconizer.fusion.fuse"] = medians_us(time_steps(iconizer, sets))
    baseline = Iconizer(layout, rng=np.random.default_rng(1), fuse=fuse_single_camera)
    for floor in baseline._floors:  # the same step with the per-point loop for zones
        floor.index = NaiveZoneIndex(floor.index)
    results["step, baseline per-point zone loop"] = medians_us(time_steps(baseline, sets[: max(40, args.steps // 10)]))

    index = ZoneIndex.build(layout.floors[0], layout.zones)
    naive = NaiveZoneIndex(index)
    for xy in sets[:20]:
        np.testing.assert_array_equal(index.counts(xy), naive.counts(xy))  # same answer, or no comparison
    for name, count_fn, reps in (
        ("zone assignment, STRtree vectorised", index.counts, 200),
        ("zone assignment, baseline per-point loop", naive.counts, 30),
    ):
        wall, cpu = [], []
        for xy in sets[:reps]:
            start, start_cpu = time.perf_counter(), time.thread_time()
            count_fn(xy)
            wall.append(time.perf_counter() - start)
            cpu.append(time.thread_time() - start_cpu)
        results[name] = (median_us(wall), median_us(cpu))

    print(f"iconizer benchmark: {args.people} people, {args.zones} zones, {len(sets)} steps (medians)")
    print(f"  {'':44s} {'wall us':>10s} {'cpu us':>10s}")
    for name, (wall_us, cpu_us) in results.items():
        print(f"  {name:44s} {wall_us:10.1f} {cpu_us:10.1f}")
    step = results["step, identity fusion"][0]
    base = results["step, baseline per-point zone loop"][0]
    zones_vec = results["zone assignment, STRtree vectorised"][0]
    zones_loop = results["zone assignment, baseline per-point loop"][0]
    print(f"  step speed-up over the baseline step: x{base / step:.1f}; zone assignment: x{zones_loop / zones_vec:.1f}")
    print(f"  target: step < 2000 us wall -> {'met' if step < 2000 else 'MISSED'}")

    gc_median, gc_p99, gc_most = replay_grand_central()
    print(f"Grand Central replay, 5,741 frames (up to {gc_most} people), 7 zones:")
    print(f"  step median {gc_median:.1f} us, 99th percentile {gc_p99:.1f} us (wall)")

    if args.accuracy:
        print("moving/stopped flag against true speed (> 0.5 m/s over the window):")
        gc = grand_central_sets(load_layout("station_layouts/grand-central"))
        pets = pets_sets()
        for method in ("nearest", "mutual"):
            for name, sets, fps, step_frames, window_s in (
                ("PETS2009 S2L1 GT, 1.0 s", pets, 7.0, 7, 1.0),
                ("Grand Central, 0.8 s", gc, 25.0, 20, 0.8),
            ):
                result = motion_accuracy(sets, fps, step_frames, window_s, method)
                figures = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items())
                print(f"  {method:8s} {name:26s} {figures}")


if __name__ == "__main__":
    main()
