"""Replay the PETS station camera's network outputs: try merge rules in seconds instead of minutes.

The network is the expensive part of the detector; the rules after it (thresholds, NMS, plausible
sizes, the frame-edge rule) are cheap. ``cache`` runs the station camera's default detector network
once over the annotated frames and stores every crop's raw output (boxes and scores down to the
decoder's 0.05); ``score`` runs :class:`detector.pipeline.TiledDetector` with those outputs in place
of the network (same tile plan, same merge code, any options) through ``crowdmap eval station``'s
runner, and prints its figures per part (1-200 chosen on, 201-400 held out, 1-400 both);
``--save`` writes the detections for ``bench/station_errors.py --load``; ``merge-time`` gives the CPU
time of the merge rules alone per frame, default options against ``--option`` ones, interleaved.

    .venv/bin/python bench/pets_replay.py cache /tmp/pets_raw.npz [--option KEY=VALUE ...]
    .venv/bin/python bench/pets_replay.py score /tmp/pets_raw.npz [--option KEY=VALUE ...] [--save dets.npz] \
        [--count-window-s S] [--count-after-own-fusion] [--no-bridge]
    .venv/bin/python bench/pets_replay.py merge-time /tmp/pets_raw.npz --option complete_side_cuts=false

Development aid: the figures in docs/BENCHMARKS.md come from ``crowdmap eval station`` itself
(``bench/public_view.py``). Replayed figures equal the real run's for the same network output.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from runs import combined_station

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import detector as _detector_package  # noqa: E402, F401  (OpenMP wait policy before torch loads)
from crowdmap import wiring  # noqa: E402
from crowdmap.commands._eval_args import parse_options  # noqa: E402
from crowdmap.evaluation import build_detector, camera_setup, evaluate_station  # noqa: E402
from crowdmap.station import load_station  # noqa: E402
from detector.evaluation import load_mot_boxes  # noqa: E402
from detector.pipeline import TiledDetector, TileOutput, scene_hints_from_options  # noqa: E402
from detector.sources import open_source  # noqa: E402
from detector.temporal import temporal_settings  # noqa: E402
from detector.tiling import Tile  # noqa: E402
from homography.types import FloorPositions  # noqa: E402
from iconizer.fusion import fuse  # noqa: E402
from iconizer.stepper import Iconizer  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets2009_s2l1"
VIDEO = PETS / "vtest.avi"
GT = PETS / "ground_truth" / "gt_full_mot_dev.txt"
PARTS = ((1, 200), (201, 400))


class ReplayNetwork:
    """A :class:`detector.pipeline.Network` answering each ``infer`` call with the next cached frame's outputs."""

    def __init__(self, cached: dict[int, list[tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]]], first: int):
        self.cached = cached
        self.frame = first
        self.input_px = 416
        self.target_person_px = 64.0
        self.min_person_px = 40.0
        self.any_input_size = True

    def infer(self, crops_bgr, input_wh=None):
        tiles = self.cached[self.frame]
        if len(tiles) != len(crops_bgr):
            raise ValueError(f"frame {self.frame}: {len(crops_bgr)} crops, cached {len(tiles)} (another tile plan?)")
        out = []
        for (x0, y0, _, _), boxes, scores in tiles:
            out.append((boxes - np.array([x0, y0, x0, y0], dtype=np.float64), scores))
        self.frame += 1
        return out


def cache(args: argparse.Namespace) -> None:
    station = load_station(args.station)
    setup = camera_setup(station, args.camera, station.layout.station.id)
    options = {**setup.detector_options, **parse_options(args.option)}
    detector = build_detector(setup.backend or "nanodet", options, threads=args.threads)
    source = open_source(str(VIDEO), realtime=False, resolution_wh=setup.camera.resolution_wh)
    arrays: dict[str, np.ndarray] = {}
    began = time.process_time()
    for number in range(1, args.last + 1):
        frame = source.read()
        outputs = detector.run_network(frame.image_bgr)
        del frame
        for t, out in enumerate(outputs):
            tile = out.tile
            arrays[f"t{number}_{t}"] = np.array([tile.x0, tile.y0, tile.x1, tile.y1])
            arrays[f"b{number}_{t}"] = out.xyxy_px.astype(np.float32)
            arrays[f"s{number}_{t}"] = np.asarray(out.scores, dtype=np.float32)
    source.close()
    np.savez_compressed(args.path, **arrays)
    print(f"{args.last} frames cached in {args.path}, {time.process_time() - began:.0f} s CPU", file=sys.stderr)


def load_cache(path: Path) -> dict[int, list[tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]]]:
    saved = np.load(path)
    frames: dict[int, list] = {}
    for key in saved.files:
        if key.startswith("t"):
            number, t = (int(v) for v in key[1:].split("_"))
            frames.setdefault(number, []).append((t, tuple(int(v) for v in saved[key])))
    out = {}
    for number, tiles in frames.items():
        out[number] = [
            (xyxy, saved[f"b{number}_{t}"].astype(np.float64), saved[f"s{number}_{t}"].astype(np.float64))
            for t, xyxy in sorted(tiles)
        ]
    return out


def replay_detector(station, camera_id: str, cached, first: int, options: dict) -> TiledDetector:
    """A TiledDetector built as ``nanodet.build`` builds it, its network replaced by the cache."""
    setup = camera_setup(station, camera_id, station.layout.station.id)
    opts = {**setup.detector_options, **options}
    hints = scene_hints_from_options(opts.pop("person_height_px", None), opts.pop("floor_mask", None))
    settings = {
        "score_threshold": 0.5,
        "tile_score_threshold": 0.3,
        "nms_iou": 0.5,
        "max_tiles": 48,
        "min_height_ratio": 0.6,
    }
    settings.update({k: v for k, v in opts.items() if k not in ("precision", "threads", "temporal")})
    settings["temporal"] = temporal_settings(opts.get("temporal", False))
    detector = TiledDetector(network=ReplayNetwork(cached, first), name="nanodet", hints=hints, **settings)
    # The crops are the cached ones (a cache may hold another tile plan than today's).
    tiles = [Tile(*xyxy) for xyxy, _, _ in cached[first]]
    detector._plans[(tiles[0].width, tiles[0].height)] = tiles
    return detector


class Recording:
    """Wraps a detector and keeps what it found, frame by frame (for ``station_errors.py --load``)."""

    def __init__(self, inner, first: int):
        self.inner = inner
        self.frame = first
        self.found: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def detect(self, frame_bgr, *, camera_id, timestamp_s):
        found = self.inner.detect(frame_bgr, camera_id=camera_id, timestamp_s=timestamp_s)
        self.found[self.frame] = (np.asarray(found.xyxy_px), np.asarray(found.confidence))
        self.frame += 1
        return found


class CountsAfterOwnFusion(Iconizer):
    """Development comparison, not kept: each message counted after fusing it on its own.

    The iconizer counts a message's positions as the camera reports them (docs/ICONIZER.md,
    "Counts over the interval"); this one counts them after ``iconizer.fusion.fuse`` of that
    message alone, which merges weak reports into their neighbours. Dots are the same as the
    iconizer's (the camera's latest set, fused at the step).
    """

    def ingest(self, positions: FloorPositions) -> None:
        own = fuse([positions])
        super().ingest(
            FloorPositions(
                positions.camera_id, positions.floor_id, positions.timestamp_s, own.xy_m, own.confidence, own.sigma_m
            )
        )
        if self._latest[positions.camera_id].timestamp_s == positions.timestamp_s:
            self._latest[positions.camera_id] = positions


def score(args: argparse.Namespace) -> None:
    if args.count_after_own_fusion:
        wiring.Iconizer = CountsAfterOwnFusion
    station = load_station(args.station)
    cached = load_cache(args.path)
    truth = load_mot_boxes(GT)
    options = parse_options(args.option)
    rows, found = [], {}
    for first, last in PARTS:
        detector = Recording(replay_detector(station, args.camera, cached, first, options), first)
        result = evaluate_station(
            station,
            camera_id=args.camera,
            video=VIDEO,
            truth_boxes=truth,
            frames=(first, last),
            detector=detector,
            count_window_s=args.count_window_s,
            bridge_misses=not args.no_bridge,
        )
        found.update(detector.found)
        rows.append({"part": f"{first}-{last}", **{k: result[k] for k in KEYS}, "_raw": result})
    rows.append({"part": "1-400", **combined_station([r["_raw"] for r in rows])})
    for row in rows:
        row.pop("_raw", None)
        print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    if args.save:
        np.savez(args.save, **{f"{k}{n}": v for n, (b, s) in found.items() for k, v in (("b", b), ("s", s))})


def merge_time(args: argparse.Namespace) -> None:
    """CPU ms per frame of ``TiledDetector.merge`` on every cached frame: defaults against ``--option``, interleaved."""
    station = load_station(args.station)
    cached = load_cache(args.path)
    frames = sorted(cached)
    outputs = [
        [TileOutput(tile=Tile(*xyxy), xyxy_px=boxes, scores=scores) for xyxy, boxes, scores in cached[n]]
        for n in frames
    ]
    settings = {"defaults": {}, "options": parse_options(args.option)}
    spent: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(args.rounds):
        for name, options in settings.items():
            detector = replay_detector(station, args.camera, cached, frames[0], options)
            began = time.process_time()
            for found in outputs:
                detector.merge(found, (found[0].tile.width, found[0].tile.height))
            spent[name].append((time.process_time() - began) / len(frames) * 1000.0)
    for name, values in spent.items():
        print(f"{name} {settings[name]}: merge {min(values):.3f} ms CPU per frame (best of {args.rounds})")


KEYS = ("zone_count_mae", "zone_count_bias", "station_count_mae", "dot_precision", "dot_recall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--station", default=str(ROOT / "station_layouts" / "pets2009"))
    parser.add_argument("--camera", default="view-001")
    sub = parser.add_subparsers(required=True)
    c = sub.add_parser("cache")
    c.add_argument("path", type=Path)
    c.add_argument("--last", type=int, default=400)
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--option", action="append", default=[], help="detector build option, e.g. input_px=512")
    c.set_defaults(run=cache)
    s = sub.add_parser("score")
    s.add_argument("path", type=Path)
    s.add_argument("--option", action="append", default=[])
    s.add_argument("--save", type=Path)
    s.add_argument(
        "--count-window-s",
        type=float,
        help="interval zone counts are averaged over (default the layout's frame_interval_s; 0: latest frame)",
    )
    s.add_argument(
        "--count-after-own-fusion",
        action="store_true",
        help="count each message after fusing it on its own (a comparison, not what the iconizer does)",
    )
    s.add_argument(
        "--no-bridge",
        action="store_true",
        help="dots are each camera's latest message alone, one-message misses not bridged (a comparison)",
    )
    s.set_defaults(run=score)
    m = sub.add_parser("merge-time")
    m.add_argument("path", type=Path)
    m.add_argument("--option", action="append", default=[])
    m.add_argument("--rounds", type=int, default=5)
    m.set_defaults(run=merge_time)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
