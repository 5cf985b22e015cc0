"""The tile plan's cost and yield on a high view: overlapping squares (the old plan) against strips.

Run from the project root (weights: ``crowdmap models pull nanodet``)::

    .venv/bin/python bench/tile_plan.py --rounds 3

The high view is Grand Central ``frame0_left.jpg`` (960x1080, 40 annotated people, operator heights
175:50,765:75) and the whole 1920x1080 frame made of it and its mirror image (as bench/highview.py
does: only the left half exists). Both plans run in ONE process on ONE torch thread, alternating
frame by frame, with the default detector otherwise (today's merge rules, ``precision="auto"``);
reported per plan: crops, network input megapixels, CPU seconds per frame (``time.process_time``,
median of ``--rounds``, so load from other processes falls on both alike) and the ratio to squares,
recall and precision on the half and on the mirrored whole frame (its truth: the 40 points and their
mirrors).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "../shared/data/grand_central"
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    from detector import create_detector
    from detector.evaluation import load_points_csv, point_score
    from detector.scene import SceneHints

    torch.set_num_threads(1)
    half = cv2.imread(str(DATA / "frame0_left.jpg"), cv2.IMREAD_COLOR)
    points = load_points_csv(DATA / "frame0_left_points.csv")
    whole = np.ascontiguousarray(np.hstack((half, half[:, ::-1])))
    whole_points = np.vstack((points, np.column_stack((2 * half.shape[1] - 1 - points[:, 0], points[:, 1]))))
    views = {"half": (half, points), "whole": (whole, whole_points)}
    detectors = {}
    for plan in ("squares", "strips"):
        hints = SceneHints.from_near_far(
            image_wh=(half.shape[1], half.shape[0]),
            far_row_px=175,
            far_height_px=50,
            near_row_px=765,
            near_height_px=75,
        )
        detector = create_detector("nanodet", person_height_px=hints.person_height_px, threads=1)
        detector.strips = plan == "strips"
        detectors[plan] = detector
    rows = {plan: {"plan": plan} for plan in detectors}
    load_before = os.getloadavg()[0]
    for plan, detector in detectors.items():
        for name, (image, truth) in views.items():
            found = detector.detect(image, camera_id=name, timestamp_s=0.0)  # warm-up and scores
            score = point_score(found.xyxy_px, truth)
            rows[plan][f"{name}_recall"] = score["recall"]
            rows[plan][f"{name}_precision"] = score["precision"]
        tiles = detector.tiles_for((whole.shape[1], whole.shape[0]))
        sizes = [t.input_wh or detector.network.input_wh_for((t.width, t.height)) for t in tiles]
        rows[plan].update(crops=len(tiles), input_mpx=sum(w * h for w, h in sizes) / 1e6, cpu_s=[])
    for _ in range(args.rounds):
        for plan, detector in detectors.items():
            began = time.process_time()
            detector.detect(whole, camera_id="whole", timestamp_s=0.0)
            rows[plan]["cpu_s"].append(time.process_time() - began)
    for row in rows.values():
        row["cpu_s"] = float(np.median(row["cpu_s"]))
    base = rows["squares"]["cpu_s"]
    for row in rows.values():
        row["cpu_vs_squares"] = row["cpu_s"] / base
    load = (load_before, os.getloadavg()[0])
    if args.json:
        print(json.dumps({"rows": list(rows.values()), "load": load}, indent=1))
        return
    print("| plan | crops (whole frame) | input Mpx | CPU s / whole frame | vs squares | half R / P | whole R / P |")
    print("|---|---|---|---|---|---|---|")
    for r in rows.values():
        print(
            f"| {r['plan']} | {r['crops']} | {r['input_mpx']:.2f} | {r['cpu_s']:.2f} | {r['cpu_vs_squares']:.2f}x "
            f"| {r['half_recall']:.3f} / {r['half_precision']:.3f} "
            f"| {r['whole_recall']:.3f} / {r['whole_precision']:.3f} |"
        )
    print(f"load average {load[0]:.1f} -> {load[1]:.1f}")


if __name__ == "__main__":
    main()
