"""Where `crowdmap eval station`'s errors come from: misses, false dots, zone borders, flicker.

Runs the station's camera detector over the annotated PETS frames (or reads detections saved by an
earlier run with --save), projects detections and ground truth as `crowdmap eval station` does
(foot point, calibration, plan, 0.1 m on the wire), and attributes every zone-count error of every
frame to its causes, person by person:

- detections are matched one to one to true people on the floor (within 0.75 m, before coarsening);
- a true person with no match is a *miss*: "box found" when a detector box overlaps the true box at
  IoU >= 0.5 (found, but its foot point lands more than 0.75 m away), else "no box"; a miss is
  *flicker* when the same annotated person (ground-truth id) is matched in one of the two frames
  before and one of the two after, *persistent* otherwise;
- a detection with no match is a *false dot*: "cut by the image side" when its box touches the
  left or right image border and overlaps no true box (the ground truth annotates people once they
  are fully in view: 1 of its 2,396 boxes touches a side border), "partial box on a person" when it
  overlaps a true box but is shorter than 0.7 x the person height the calibration expects at its
  foot row (an upper body above an occluder: its foot point is metres too far), else "other";
- a matched pair whose two points fall in different zones is a *border* error.

The zone-count error of a frame is the sum of these contributions; each zone's |error| is shared
among the causes that pushed it that way, so the causes add up to the unsmoothed zone count MAE
(the iconizer publishes counts unsmoothed: this is `zone_count_mae` up to coarsening-free detail).

    .venv/bin/python bench/station_errors.py --frames 1:400 --save /tmp/pets_dets.npz
    .venv/bin/python bench/station_errors.py --frames 201:400 --load /tmp/pets_dets.npz
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import detector as _detector_package  # noqa: E402, F401  (OpenMP wait policy before torch loads)
from crowdmap.evaluation import build_detector, camera_setup  # noqa: E402
from crowdmap.station import load_station  # noqa: E402
from detector.boxes import iou_matrix  # noqa: E402
from detector.sources import open_source  # noqa: E402
from homography.floor_metrics import match_points  # noqa: E402
from homography.projection import to_floor as project  # noqa: E402
from homography.scene import person_height_px_per_row  # noqa: E402
from iconizer.evaluation import DOT_MATCH_RADIUS_M  # noqa: E402
from iconizer.zones import ZoneIndex  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets2009_s2l1"


def load_mot_with_ids(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Frame -> (ids (n,), boxes (n, 4) xyxy)."""
    rows: dict[int, list[list[float]]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            f, i, left, top, w, h = (float(v) for v in line.split(",")[:6])
            rows.setdefault(int(f), []).append([i, left, top, left + w, top + h])
    return {k: (np.array(v)[:, 0].astype(int), np.array(v)[:, 1:]) for k, v in rows.items()}


def detect_all(
    station, camera_id: str, start: int, stop: int, threads: int
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    setup = camera_setup(station, camera_id, station.id)
    detector = build_detector(setup.backend or "nanodet", setup.detector_options, threads=threads)
    source = open_source(str(PETS / "vtest.avi"), realtime=False, resolution_wh=setup.camera.resolution_wh)
    out = {}
    began = time.perf_counter()
    for number in range(1, stop + 1):
        frame = source.read()
        if number >= start:
            found = detector.detect(frame.image_bgr, camera_id=camera_id, timestamp_s=(number - 1) * 0.1)
            out[number] = (np.asarray(found.xyxy_px), np.asarray(found.confidence))
        del frame
        if number % 50 == 0:
            print(f"frame {number}, {time.perf_counter() - began:.0f} s", file=sys.stderr)
    source.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", default="1:400")
    parser.add_argument("--station", default=str(ROOT / "station_layouts" / "pets2009"))
    parser.add_argument("--camera", default="view-001")
    parser.add_argument("--save", type=Path, help="save the detections to this .npz")
    parser.add_argument("--load", type=Path, help="read detections saved with --save instead of detecting")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    start, stop = (int(v) for v in args.frames.split(":"))

    station = load_station(args.station)
    camera = station.layout.camera(args.camera)
    calib, floor = station.calibrations[camera.id], station.layout.floor(camera.floor)
    index = ZoneIndex.build(floor, station.layout.zones_on(floor.id))
    truth = load_mot_with_ids(PETS / "ground_truth" / "gt_full_mot_dev.txt")
    if args.load:
        saved = np.load(args.load)
        found = {n: (saved[f"b{n}"], saved[f"s{n}"]) for n in range(start, stop + 1)}
    else:
        found = detect_all(station, args.camera, start, stop, args.threads)
        if args.save:
            np.savez(args.save, **{f"{k}{n}": v for n, (b, s) in found.items() for k, v in (("b", b), ("s", s))})

    def to_floor(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Foot points -> floor (as homography.positions does: off the plan is invalid), at the bus's 0.1 m."""
        feet = np.column_stack(((boxes[:, 0] + boxes[:, 2]) / 2.0, boxes[:, 3])) if len(boxes) else np.zeros((0, 2))
        xy, valid = project(points_px=feet, calib=calib, floor=floor)
        return np.round(xy, 1), valid

    def zones_of(point_m: np.ndarray) -> np.ndarray:
        """(z,) 1 for every zone holding the point (a point on a shared edge is in both)."""
        return index.counts(point_m[None])

    matched_ids: dict[int, set[int]] = {}
    per_frame = {}
    for n in range(start, stop + 1):
        ids, gt_boxes = truth.get(n, (np.zeros(0, int), np.zeros((0, 4))))
        boxes, _ = found[n]
        gt_xy, gt_ok = to_floor(gt_boxes)
        xy, ok = to_floor(boxes)
        d_idx, t_idx, _ = match_points(predicted_m=xy[ok], truth_m=gt_xy[gt_ok], max_distance_m=DOT_MATCH_RADIUS_M)
        det_rows, gt_rows = np.flatnonzero(ok)[d_idx], np.flatnonzero(gt_ok)[t_idx]
        matched_ids[n] = set(ids[gt_rows].tolist())
        per_frame[n] = (ids, gt_boxes, gt_xy, gt_ok, boxes, xy, ok, det_rows, gt_rows)

    width_px = camera.resolution_wh[0]
    expected_px = person_height_px_per_row(calib, floor)
    causes: Counter[str] = Counter()
    events: Counter[str] = Counter()
    zone_frames = 0
    abs_error = 0.0
    for n in range(start, stop + 1):
        ids, gt_boxes, gt_xy, gt_ok, boxes, xy, ok, det_rows, gt_rows = per_frame[n]
        contributions: list[tuple[str, np.ndarray]] = []
        ious = iou_matrix(gt_boxes, boxes)
        for row in np.setdiff1d(np.flatnonzero(gt_ok), gt_rows):
            person = int(ids[row])
            before = any(person in matched_ids.get(m, ()) for m in (n - 2, n - 1))
            after = any(person in matched_ids.get(m, ()) for m in (n + 1, n + 2))
            if ious.shape[1] > 0 and ious[row].max() >= 0.5:
                kind = "miss: box found, foot point off"
            else:
                kind = f"miss: no box ({'flicker' if before and after else 'persistent'})"
            contributions.append((kind, -zones_of(gt_xy[row])))
        for row in np.setdiff1d(np.flatnonzero(ok), det_rows):
            overlap = ious[:, row].max() if ious.shape[0] else 0.0
            height = boxes[row, 3] - boxes[row, 1]
            expected = expected_px[int(np.clip(boxes[row, 3], 0, len(expected_px) - 1))]
            if overlap <= 0.1 and (boxes[row, 0] <= 1 or boxes[row, 2] >= width_px - 1):
                kind = "false dot: cut by the image side, no true box"
            elif overlap > 0.1 and height < 0.7 * expected:
                kind = "false dot: partial box on a person"
            else:
                kind = "false dot: other"
            contributions.append((kind, zones_of(xy[row])))
        for d_row, g_row in zip(det_rows, gt_rows, strict=True):
            delta = zones_of(xy[d_row]) - zones_of(gt_xy[g_row])
            if delta.any():
                contributions.append(("border: matched, in another zone", delta))
        events.update(kind for kind, _ in contributions)
        error = sum((delta for _, delta in contributions), np.zeros(len(index), dtype=np.int64))
        # Each zone's |error| goes to the causes that pushed it that way, in proportion.
        for z in np.flatnonzero(error):
            pushing = [(kind, abs(delta[z])) for kind, delta in contributions if np.sign(delta[z]) == np.sign(error[z])]
            total = sum(v for _, v in pushing)
            for kind, v in pushing:
                causes[kind] += abs(error[z]) * v / total
        zone_frames += len(index)
        abs_error += float(np.abs(error).sum())
    frames = stop - start + 1
    print(
        json.dumps(
            {
                "frames": [start, stop],
                "zone_count_mae_raw": abs_error / zone_frames,
                "by_cause_persons_per_zone_frame": {k: round(v / zone_frames, 4) for k, v in causes.most_common()},
                "events": dict(events.most_common()),
                "true_people": int(sum(per_frame[n][3].sum() for n in per_frame)),
                "detections_on_floor": int(sum(per_frame[n][6].sum() for n in per_frame)),
                "zone_frames": zone_frames,
                "frames_scored": frames,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
