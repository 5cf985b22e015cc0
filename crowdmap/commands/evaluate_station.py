"""``crowdmap eval station``: what the public sees, from a recorded camera, scored against its ground truth.

    crowdmap eval station --station LAYOUT --camera ID --video V --gt MOT_TXT [--frames A:B] [--backend B]
        [--body-radius M] --json

The recording runs through the real pipeline (source, detector, calibration, the station's
iconizer) frame by frame; the ground truth's boxes of each frame go through the same calibration
and an iconizer built the same way. Zone counts and public levels are compared zone by zone, the
published dots matched one to one within 0.75 m. The runner is ``crowdmap.evaluation.evaluate_station``,
the scoring ``iconizer.evaluation``; docs/EVALUATION.md explains the figures.

The JSON printed with ``--json`` is a stable interface (outside checks rely on its keys).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

# Imported before anything loads torch: it sets torch's OpenMP wait policy for shared cores.
import detector as _detector_package  # noqa: F401
from crowdmap.commands._common import add_station_option, load_or_exit
from crowdmap.commands._eval_args import add_run_arguments, parse_frames, parse_options, print_result
from iconizer.footprint import BODY_RADIUS_M

DESCRIPTION = """\
Score what the public sees, on a recorded camera whose people are annotated: each zone's count
and crowding level, and the dots. The recording runs through the whole pipeline as a station runs
it (the camera's detector, its calibration, the station's zones, smoothing and coarsening), frame
by frame; the annotated people of each frame go through the same calibration and the same
publishing steps. Counts and levels are compared zone by zone, the dots matched one to one within
0.75 m. Video frame k (counted from 0) is ground-truth frame k+1. With --json it prints one JSON
object whose keys stay stable (docs/EVALUATION.md).
"""


def add_station_parser(eval_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``crowdmap eval station``."""
    parser = eval_subparsers.add_parser(
        "station",
        help="score what the public sees (zone counts, levels, dots) on a recorded camera with ground truth",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_station_option(parser)
    parser.add_argument("--camera", required=True, metavar="ID", help="the camera the recording comes from")
    parser.add_argument(
        "--video", required=True, type=Path, help="the recording; its frame k (0-based) is GT frame k+1"
    )
    parser.add_argument(
        "--gt", required=True, type=Path, help="MOTChallenge ground truth frame,id,left,top,width,height"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the iconizers' shuffling and jitter")
    parser.add_argument(
        "--body-radius",
        type=float,
        default=BODY_RADIUS_M,
        metavar="METRES",
        help=f"radius of the body footprint zones count people by, on both sides (default {BODY_RADIUS_M:.3f}, "
        "Fruin's body ellipse; 0 counts each person as a point, to compare)",
    )
    add_run_arguments(parser)
    parser.set_defaults(handler=run_station)
    return parser


def run_station(args: argparse.Namespace) -> int:
    """Handler of ``crowdmap eval station``; prints the scores, returns the exit code."""
    from crowdmap.evaluation import evaluate_station
    from detector.evaluation import load_mot_boxes
    from detector.sources import SourceError

    station = load_or_exit(args.station)
    try:
        if not args.video.is_file():
            raise FileNotFoundError(f"--video {args.video}: no such file")
        if not (math.isfinite(args.body_radius) and args.body_radius >= 0):
            raise ValueError(f"--body-radius must be a finite number of metres >= 0, got {args.body_radius}")
        truth = load_mot_boxes(args.gt)
        frames = parse_frames(args.frames) if args.frames else (min(truth, default=1), max(truth, default=1))
        result = evaluate_station(
            station,
            camera_id=args.camera,
            video=args.video,
            truth_boxes=truth,
            frames=frames,
            backend=args.backend,
            detector_options=parse_options(args.option),
            threads=args.threads,
            seed=args.seed,
            body_radius_m=args.body_radius,
        )
    except (ValueError, FileNotFoundError, SourceError) as error:
        print(f"crowdmap eval station: {error}", file=sys.stderr)
        return 2
    result["threads"] = args.threads
    print_result(result, as_json=args.json, key_width=36)
    return 0
