"""Benchmark: what counting every camera message costs the aggregator, against a baseline revision.

Run from the project root (the baseline revision must be in git)::

    .venv/bin/python bench/iconizer_counts.py --baseline-rev REV [--people 300] [--zones 30] [--seconds 40]

Each workload feeds one iconizer what the aggregator gets in a second, again and again: every
camera's positions at 10 messages a second (``ingest``), then one ``step``. ``baseline`` is the
whole tree of ``--baseline-rev`` (``git archive``; its iconizer counted only the latest message at
each step), ``today`` is this tree. Every (tree, workload) runs in its own process, one thread,
the trees interleaved, and CPU time (``time.thread_time``) is reported: medians of the CPU
microseconds of one ingest and of one step, and the CPU milliseconds the iconizer spends per
second of camera input (all ingests of that second plus its step).

Workloads, on the bench floor of ``bench/iconizer.py`` (100 m x 40 m, ``--zones`` zones, 70 % of
``--people`` people walking, one crowd step per message); detector confidences uniform in 0.3-1.0 (tile detections
go down to 0.3), 0.1 m of noise per camera and message:

- ``1 camera, default fusion``: one camera sees the floor (``iconizer.fusion.fuse``, the default);
- ``1 camera, identity fusion``: the same with ``fuse_single_camera`` (no merging);
- ``3 cameras, default fusion``: three cameras see x = 0-40, 30-70 and 60-100 m (10 m overlaps), with
  their coverage; zones overlapping two views count the step's fusion.

``floor fusion`` (3 cameras) is one ``fuse`` of the three cameras' latest sets: what a count of
the shared zones per message would cost for each of the 30 messages of a second. ``own fusion``
is one ``fuse`` of one camera's message alone: what counting each message after fusing it on its
own (merging the camera's weak reports into their neighbours) would add per message.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runs import extract_revision

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = ("1 camera, default fusion", "1 camera, identity fusion", "3 cameras, default fusion")
MESSAGES_PER_S = 10
VIEWS_M = ((0.0, 40.0), (30.0, 70.0), (60.0, 100.0))


def _bench_iconizer_module():
    """``bench/iconizer.py`` of this tree (its floor and crowd), imported against whichever tree is on the path."""
    spec = importlib.util.spec_from_file_location("bench_iconizer", ROOT / "bench" / "iconizer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def worker(workload: str, people: int, zones: int, seconds: int) -> dict:
    """Run one workload in this process (the tree on ``PYTHONPATH``); CPU microseconds per ingest and step."""
    import numpy as np
    from shapely.geometry import box

    from homography.types import FloorPositions
    from iconizer.fusion import fuse
    from iconizer.stepper import Iconizer, fuse_single_camera

    bench = _bench_iconizer_module()
    rng = np.random.default_rng(0)
    layout = bench.bench_layout(zones, rng)
    steps = seconds * MESSAGES_PER_S + 10 * MESSAGES_PER_S
    # One crowd step per message (bench/iconizer.py's walkers move 1.3 m a step: fast, which the
    # counting cost does not notice).
    sets = list(bench.crowd(rng, people, steps))
    multi = workload.startswith("3 cameras")
    cameras = [f"cam{k}" for k in range(3)] if multi else ["cam"]
    if multi:
        cam = layout.cameras[0]
        layout = layout.model_copy(
            update={"cameras": [cam.model_copy(update={"id": camera_id}) for camera_id in cameras]}
        )
        coverage = {c: box(x0, 0.0, x1, 40.0) for c, (x0, x1) in zip(cameras, VIEWS_M, strict=True)}
    else:
        coverage = None
    fusion = fuse_single_camera if "identity" in workload else None
    iconizer = Iconizer(layout, coverage=coverage, rng=np.random.default_rng(1), fuse=fusion)
    confidence_rng = np.random.default_rng(2)
    ingest_us, step_us, fusion_us, own_fusion_us, per_second_ms = [], [], [], [], []
    t0 = 1_790_000_000.0
    spent_s = 0.0
    for k, xy in enumerate(sets):
        t = t0 + k / MESSAGES_PER_S
        latest = []
        for camera_id, (x0, x1) in zip(cameras, VIEWS_M if multi else ((0.0, 100.0),), strict=False):
            seen = xy[(xy[:, 0] >= x0) & (xy[:, 0] < x1)]
            seen = seen + confidence_rng.normal(0.0, 0.1, seen.shape)
            n = len(seen)
            positions = FloorPositions(camera_id, "f", t, seen, confidence_rng.uniform(0.3, 1.0, n), np.full(n, 0.3))
            latest.append(positions)
            began = time.thread_time()
            iconizer.ingest(positions)
            spent = time.thread_time() - began
            spent_s += spent
            ingest_us.append(spent * 1e6)
        if (k + 1) % MESSAGES_PER_S == 0:
            began = time.thread_time()
            iconizer.step(t)
            spent = time.thread_time() - began
            spent_s += spent
            step_us.append(spent * 1e6)
            per_second_ms.append(spent_s * 1e3)
            spent_s = 0.0
            if multi:
                began = time.thread_time()
                fuse(latest)
                fusion_us.append((time.thread_time() - began) * 1e6)
            began = time.thread_time()
            fuse(latest[:1])
            own_fusion_us.append((time.thread_time() - began) * 1e6)
    warm = 10  # the first simulated seconds warm caches up
    return {
        "ingest_us": statistics.median(ingest_us[warm * MESSAGES_PER_S * len(cameras) :]),
        "step_us": statistics.median(step_us[warm:]),
        "cpu_ms_per_s": statistics.median(per_second_ms[warm:]),
        "floor_fusion_us": statistics.median(fusion_us[warm:]) if fusion_us else None,
        "own_fusion_us": statistics.median(own_fusion_us[warm:]),
        "people": people,
        "zones": zones,
        "seconds": len(per_second_ms) - warm,
    }


def run_worker(tree: Path, workload: str, args: argparse.Namespace) -> dict:
    argv = [
        sys.executable, str(Path(__file__).resolve()), "--worker", workload, "--people", str(args.people),
        "--zones", str(args.zones), "--seconds", str(args.seconds),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{workload} failed in {tree}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-rev", help="git revision whose tree is the baseline")
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--zones", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=40, help="simulated seconds measured per workload")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repetitions of every (tree, workload)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
            sys.path.pop(0)  # this folder holds iconizer.py, which would shadow the iconizer package
        print(json.dumps(worker(args.worker, args.people, args.zones, args.seconds)))
        return
    if not args.baseline_rev:
        parser.error("--baseline-rev is required")
    results: dict[tuple[str, str], list[dict]] = {}
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="crowdmap-bench-") as tmp:
        trees = [(f"baseline {args.baseline_rev}", extract_revision(args.baseline_rev, Path(tmp))), ("today", ROOT)]
        for _ in range(args.rounds):
            for workload in WORKLOADS:
                for name, tree in trees:
                    results.setdefault((workload, name), []).append(run_worker(tree, workload, args))
                    load.append(os.getloadavg()[0])
    print(f"{args.people} people, {args.zones} zones, {MESSAGES_PER_S} messages/s per camera; CPU, one thread; "
          f"best of {args.rounds} runs of {args.seconds} s; load average {min(load):.1f}-{max(load):.1f}")  # fmt: skip
    print("| workload | tree | ingest us/message | step us | CPU ms per second of input | floor fusion us "
          "| own fusion us |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for (workload, name), runs in results.items():
        best = min(runs, key=lambda r: r["cpu_ms_per_s"])
        fusion = f"{best['floor_fusion_us']:.0f}" if best["floor_fusion_us"] is not None else ""
        print(
            f"| {workload} | {name} | {best['ingest_us']:.0f} | {best['step_us']:.0f} | {best['cpu_ms_per_s']:.2f} "
            f"| {fusion} | {best['own_fusion_us']:.0f} |"
        )


if __name__ == "__main__":
    main()
