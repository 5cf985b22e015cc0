"""Benchmark: one iconizer step at 300 people and 30 zones, against a naive per-point baseline.

Run from the project root::

    .venv/bin/python bench/iconizer.py [--people 300] [--zones 30] [--steps 400]

Reports medians (microseconds) of:
- the full step (ingest one camera's positions + ``Iconizer.step``), with identity fusion (the
  iconizer's own cost) and, when present, with ``iconizer.fusion.fuse``;
- zone assignment alone: ``ZoneIndex.counts`` (shapely 2 STRtree, vectorised) against the
  baseline, a per-point loop over ``Polygon.contains(Point)`` for every zone;
- the same step with the baseline zone assignment in place of the vectorised one.
"""

from __future__ import annotations

import argparse
import importlib.util
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

from homography.layout import parse_layout
from homography.types import FloorPositions
from iconizer.stepper import Iconizer, fuse_single_camera
from iconizer.zones import ZoneIndex


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
        "notice": {k: {"ja": "x", "en": "x"} for k in ("operator", "purpose", "captured", "retention", "contact")},
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
        np.clip(xy, [0.1, 0.1], [width - 0.1, height - 0.1], out=xy)
        heading += rng.normal(0, 0.1, n)


def time_steps(iconizer: Iconizer, sets, t0: float = 1_790_000_000.0) -> list[float]:
    durations = []
    for k, xy in enumerate(sets):
        t = t0 + k
        positions = FloorPositions("cam", "f", t, xy, np.ones(len(xy)), np.full(len(xy), 0.3))
        start = time.perf_counter()
        iconizer.ingest(positions)
        iconizer.step(t)
        durations.append(time.perf_counter() - start)
    return durations[10:]  # warm-up


def median_us(samples) -> float:
    return statistics.median(samples) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--zones", type=int, default=30)
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    layout = bench_layout(args.zones, rng)
    sets = list(crowd(rng, args.people, args.steps))

    results = {}
    iconizer = Iconizer(layout, rng=np.random.default_rng(1), fuse=fuse_single_camera)
    results["step, identity fusion"] = median_us(time_steps(iconizer, sets))
    if importlib.util.find_spec("iconizer.fusion") is not None:
        iconizer = Iconizer(layout, rng=np.random.default_rng(1))
        results["step, iconizer.fusion.fuse"] = median_us(time_steps(iconizer, sets))
    baseline = Iconizer(layout, rng=np.random.default_rng(1), fuse=fuse_single_camera)
    for floor in baseline._floors:  # the same step with the per-point loop for zones
        floor.index = NaiveZoneIndex(floor.index)
    results["step, baseline per-point zone loop"] = median_us(time_steps(baseline, sets[: max(40, args.steps // 10)]))

    index = ZoneIndex.build(layout.floors[0], layout.zones)
    naive = NaiveZoneIndex(index)
    for xy in sets[:20]:
        np.testing.assert_array_equal(index.counts(xy), naive.counts(xy))  # same answer, or no comparison
    vec, loop = [], []
    for xy in sets[:200]:
        start = time.perf_counter()
        index.counts(xy)
        vec.append(time.perf_counter() - start)
    for xy in sets[:30]:
        start = time.perf_counter()
        naive.counts(xy)
        loop.append(time.perf_counter() - start)
    results["zone assignment, STRtree vectorised"] = median_us(vec)
    results["zone assignment, baseline per-point loop"] = median_us(loop)

    print(f"iconizer benchmark: {args.people} people, {args.zones} zones, {len(sets)} steps")
    for name, value in results.items():
        print(f"  {name:42s} {value:10.1f} us")
    step = results["step, identity fusion"]
    print(f"  step speed-up over baseline step             x{results['step, baseline per-point zone loop'] / step:.1f}")
    print(
        "  zone assignment speed-up                     "
        f"x{results['zone assignment, baseline per-point loop'] / results['zone assignment, STRtree vectorised']:.1f}"
    )
    print(f"  target: step < 2000 us -> {'met' if step < 2000 else 'MISSED'}")


if __name__ == "__main__":
    main()
