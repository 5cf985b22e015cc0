"""Recall and precision of a network backend against the person's height in the network input.

Run from the project root (weights: ``crowdmap models pull``)::

    .venv/bin/python bench/detector_scale.py --step 20 --threads 2

What it measures: the same people shown to the network at many scales. For each scale ``s`` (input
pixels per frame pixel) every ground-truth person is shown in a crop of ``input_px / s`` frame pixels
that holds them whole (placed at a seeded random position in the crop, so not always centred), or in
the whole frame resized by ``s`` when that crop would not fit in the frame. A person counts as found
when a detection of that crop at or above the score threshold matches them:

- PETS2009 View_001 (ground-truth frames 1-400, every ``--step``th): boxes, IoU >= 0.5;
- Grand Central ``frame0_left.jpg`` (40 points, operator heights 175:50,765:75): a box that holds
  the point and whose height is 0.5-2x the expected height there.

Each person's height in the input is its height in the frame times ``s`` (PETS: the ground-truth box;
Grand Central: the operator's expected height at the point's row). Reported: recall per input-height
bin at the tile and whole-frame thresholds, and the precision of the detections that lie whole in the
crop (PETS only: the Grand Central truth leaves people out). The reliable range that
``detector.reliability`` states comes from this table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "../shared/data"
sys.path.insert(0, str(ROOT))

SCALES = (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.75, 0.9, 1.1, 1.35, 1.7, 2.1, 2.6, 3.2)
BINS_PX = (8, 12, 16, 20, 24, 28, 32, 36, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 256, 320)


def crop_for(
    box_xyxy: np.ndarray, side_px: float, frame_wh: tuple[int, int], rng: np.random.Generator
) -> tuple[int, int, int, int] | None:
    """A crop ``side_px`` square (clipped to the frame) holding ``box_xyxy`` whole, or None if none does."""
    width, height = frame_wh
    side_w, side_h = min(side_px, width), min(side_px, height)
    bw, bh = box_xyxy[2] - box_xyxy[0], box_xyxy[3] - box_xyxy[1]
    if bw > side_w or bh > side_h:
        return None
    lo_x, hi_x = max(0.0, box_xyxy[2] - side_w), min(box_xyxy[0], width - side_w)
    lo_y, hi_y = max(0.0, box_xyxy[3] - side_h), min(box_xyxy[1], height - side_h)
    if lo_x > hi_x or lo_y > hi_y:
        return None
    x0, y0 = round(rng.uniform(lo_x, hi_x)), round(rng.uniform(lo_y, hi_y))
    return x0, y0, round(x0 + side_w), round(y0 + side_h)


class Runner:
    """Runs the network on a crop at a given input size (multiples of 32, aspect kept)."""

    def __init__(self, threads: int, precision: str) -> None:
        import torch

        from detector.backends.nanodet import NanoDetNetwork, decode
        from detector.models import model_files

        torch.set_num_threads(threads)
        self.network = NanoDetNetwork(model_json=model_files("nanodet")["models/nanodet.json"], precision=precision)
        self.decode = decode

    def detect(self, crop_bgr: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Boxes (crop px), scores, and the actual x/y scales after rounding the input to multiples of 32."""
        h, w = crop_bgr.shape[:2]
        input_wh = (max(32, round(w * scale / 32) * 32), max(32, round(h * scale / 32) * 32))
        raw = self.network.raw(self.network.preprocess(crop_bgr, input_wh)[None])
        boxes, scores = self.decode(raw, 0, input_wh=input_wh)
        sx, sy = input_wh[0] / w, input_wh[1] / h
        return boxes / np.array([sx, sy, sx, sy]), scores, sx, sy


def nms_boxes(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    from detector.tiling import nms

    keep = scores >= threshold
    boxes, scores = boxes[keep], scores[keep]
    if len(boxes) == 0:
        return boxes, scores
    kept = nms(boxes, scores, iou_threshold=0.5, containment_threshold=1.01)
    return boxes[kept], scores[kept]


def pets_records(runner: Runner, step: int, thresholds: tuple[float, ...], seed: int) -> list[dict]:
    from detector.boxes import iou_matrix
    from detector.evaluation import load_mot_boxes, match_boxes

    truth = load_mot_boxes(DATA / "pets2009_s2l1/ground_truth/gt_full_mot_dev.txt")
    capture = cv2.VideoCapture(str(DATA / "pets2009_s2l1/vtest.avi"))
    rng = np.random.default_rng(seed)
    records = []
    for number in range(1, 401):
        ok, frame = capture.read()
        if not ok:
            raise SystemExit(f"PETS video ends before frame {number}")
        if (number - 1) % step:
            continue
        gt = truth.get(number, np.zeros((0, 4)))
        frame_wh = (frame.shape[1], frame.shape[0])
        for scale in SCALES:
            side = runner.network.input_px / scale
            whole = side >= max(frame_wh)
            jobs = [(None, np.arange(len(gt)))] if whole else []
            if not whole:
                for j in range(len(gt)):
                    crop = crop_for(gt[j], side, frame_wh, rng)
                    if crop is not None:
                        jobs.append((crop, np.array([j])))
            for crop, people in jobs:
                x0, y0, x1, y1 = crop if crop is not None else (0, 0, *frame_wh)
                boxes, scores, _, sy = runner.detect(frame[y0:y1, x0:x1], scale)
                boxes = boxes + np.array([x0, y0, x0, y0])
                inside = (gt[:, 0] >= x0) & (gt[:, 1] >= y0) & (gt[:, 2] <= x1) & (gt[:, 3] <= y1)
                for threshold in thresholds:
                    kept, _ = nms_boxes(boxes, scores, threshold)
                    pairs = match_boxes(kept, gt)
                    found = set(pairs[:, 1].tolist())
                    for j in people:
                        records.append(
                            dict(
                                set="pets",
                                threshold=threshold,
                                scale=scale,
                                input_height_px=float((gt[j, 3] - gt[j, 1]) * sy),
                                found=bool(j in found),
                            )
                        )
                    # Precision over detections lying whole in the crop, against the people wholly in it.
                    margin = 2.0
                    whole_box = (
                        (kept[:, 0] > x0 + margin)
                        & (kept[:, 1] > y0 + margin)
                        & (kept[:, 2] < x1 - margin)
                        & (kept[:, 3] < y1 - margin)
                    )
                    dets = kept[whole_box]
                    matched = match_boxes(dets, gt[inside])
                    # A detection of a person only partly in the crop is neither right nor wrong here.
                    partial = gt[~inside]
                    unclear = (
                        iou_matrix(dets, partial).max(axis=1) >= 0.3
                        if len(partial) and len(dets)
                        else np.zeros(len(dets), bool)
                    )
                    wrong = int(np.sum(~np.isin(np.arange(len(dets)), matched[:, 0]) & ~unclear))
                    heights = (dets[:, 3] - dets[:, 1]) * sy
                    records.append(
                        dict(
                            set="pets-detections",
                            threshold=threshold,
                            scale=scale,
                            right_heights_px=heights[matched[:, 0]].tolist(),
                            wrong_heights_px=heights[~np.isin(np.arange(len(dets)), matched[:, 0]) & ~unclear][
                                :wrong
                            ].tolist(),
                        )
                    )
    capture.release()
    return records


def grand_central_records(runner: Runner, thresholds: tuple[float, ...], seed: int) -> list[dict]:
    from detector.evaluation import load_points_csv
    from detector.scene import SceneHints

    image = cv2.imread(str(DATA / "grand_central/frame0_left.jpg"), cv2.IMREAD_COLOR)
    points = load_points_csv(DATA / "grand_central/frame0_left_points.csv")
    frame_wh = (image.shape[1], image.shape[0])
    hints = SceneHints.from_near_far(
        image_wh=frame_wh, far_row_px=175, far_height_px=50, near_row_px=765, near_height_px=75
    )
    rng = np.random.default_rng(seed)
    records = []
    for scale in SCALES:
        side = runner.network.input_px / scale
        for point in points:
            # The points sit on heads or upper bodies: the feet are about 0.8 of a height lower.
            h = float(hints.expected_height_px([point[1]])[0])
            foot_y = min(point[1] + 0.8 * h, frame_wh[1] - 1)
            h = float(hints.expected_height_px([foot_y])[0])
            box = np.array([point[0] - 0.25 * h, foot_y - h, point[0] + 0.25 * h, foot_y])
            box = np.clip(box, [0, 0, 0, 0], [frame_wh[0], frame_wh[1], frame_wh[0], frame_wh[1]])
            whole = side >= max(frame_wh)
            crop = (0, 0, *frame_wh) if whole else crop_for(box, side, frame_wh, rng)
            if crop is None:
                continue
            x0, y0, x1, y1 = crop
            boxes, scores, _, sy = runner.detect(image[y0:y1, x0:x1], scale)
            boxes = boxes + np.array([x0, y0, x0, y0])
            for threshold in thresholds:
                kept, _ = nms_boxes(boxes, scores, threshold)
                heights = kept[:, 3] - kept[:, 1]
                holds = (
                    (kept[:, 0] <= point[0])
                    & (kept[:, 2] >= point[0])
                    & (kept[:, 1] <= point[1])
                    & (kept[:, 3] >= point[1])
                    & (heights >= 0.5 * h)
                    & (heights <= 2.0 * h)
                )
                records.append(
                    dict(
                        set="grand_central",
                        threshold=threshold,
                        scale=scale,
                        input_height_px=h * sy,
                        found=bool(holds.any()),
                    )
                )
    return records


def table(records: list[dict], thresholds: tuple[float, ...]) -> list[dict]:
    rows = []
    edges = np.array(BINS_PX, dtype=float)
    for lo, hi in itertools.pairwise(edges):
        row: dict = {"input_height_px": f"{int(lo)}-{int(hi)}"}
        for threshold in thresholds:
            for name in ("pets", "grand_central"):
                hits = [
                    r["found"]
                    for r in records
                    if r["set"] == name and r["threshold"] == threshold and lo <= r["input_height_px"] < hi
                ]
                row[f"{name}_recall@{threshold}"] = round(float(np.mean(hits)), 3) if hits else None
                row[f"{name}_n@{threshold}"] = len(hits)
            right = sum(
                sum(lo <= v < hi for v in r["right_heights_px"])
                for r in records
                if r["set"] == "pets-detections" and r["threshold"] == threshold
            )
            wrong = sum(
                sum(lo <= v < hi for v in r["wrong_heights_px"])
                for r in records
                if r["set"] == "pets-detections" and r["threshold"] == threshold
            )
            row[f"pets_precision@{threshold}"] = round(right / (right + wrong), 3) if right + wrong else None
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", type=int, default=20, help="every STEP-th PETS ground-truth frame of 1-400")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--thresholds", default="0.3,0.5", help="score thresholds, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", default="fp32", help="NanoDet precision (the documented table: fp32)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")
    args = parser.parse_args()
    thresholds = tuple(float(v) for v in args.thresholds.split(","))
    began = time.process_time()
    runner = Runner(args.threads, args.precision)
    records = pets_records(runner, args.step, thresholds, args.seed) + grand_central_records(
        runner, thresholds, args.seed
    )
    rows = table(records, thresholds)
    if args.json:
        print(json.dumps({"rows": rows, "cpu_s": time.process_time() - began}, indent=1))
        return
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join("-" if row[k] is None else str(row[k]) for k in keys))
    print(f"cpu {time.process_time() - began:.0f} s")


if __name__ == "__main__":
    main()
