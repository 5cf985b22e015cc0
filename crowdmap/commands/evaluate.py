"""``crowdmap eval``: score the pipeline's stages on real data.

``eval detect`` scores a detector backend against ground-truth boxes of a video (MOTChallenge text)
or against one point per person on a single image. Each ``eval`` subcommand is added by one small
function returned by ``_eval_parsers()`` (add new ones there); ``eval fusion`` lives in
``crowdmap.commands.evaluate_fusion``.

The JSON printed with ``--json`` is a stable interface (outside checks rely on its keys).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# Imported before anything loads torch: it sets torch's OpenMP wait policy for shared cores.
import detector as _detector_package  # noqa: F401


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap eval`` and its subcommands."""
    parser = subparsers.add_parser("eval", help="score detector and fusion on real data", description=__doc__)
    eval_subparsers = parser.add_subparsers(dest="eval_command", required=True)
    for add_parser in _eval_parsers():
        add_parser(eval_subparsers)


def _eval_parsers() -> list[Callable[[argparse._SubParsersAction], Any]]:
    """The functions that each add one ``eval`` subcommand (the place to add another one)."""
    from crowdmap.commands.evaluate_fusion import add_fusion_parser

    return [add_detect_parser, add_fusion_parser]


# --------------------------------------------------------------------------- eval detect
def add_detect_parser(eval_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``crowdmap eval detect``."""
    parser = eval_subparsers.add_parser(
        "detect",
        help="score a detector backend on a video with ground-truth boxes, or an image with one point per person",
        description=(
            "Video mode: --video V --gt MOT_TXT [--frames A:B]; one-to-one matching at IoU >= 0.5. "
            "Image mode: --image IMG --gt-points CSV (columns x_px,y_px); a box matches at most one point "
            "inside it. --station LAYOUT --camera ID applies that camera's calibration (expected person "
            "height per row, walkable floor mask, detector options, foot error in metres)."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", type=Path, help="video file; its frame k (0-based) is ground-truth frame k+1")
    source.add_argument("--image", type=Path, help="one image, scored against --gt-points")
    parser.add_argument("--gt", type=Path, help="MOTChallenge ground truth frame,id,left,top,width,height,...")
    parser.add_argument("--gt-points", type=Path, help="CSV with columns x_px,y_px, one point per person")
    parser.add_argument("--frames", default=None, help="A:B, ground-truth frame numbers to score, inclusive")
    parser.add_argument("--backend", default=None, help="detector backend (default: the camera's, else the default)")
    parser.add_argument("--station", default=None, help="layout folder or bundled station name")
    parser.add_argument("--camera", default=None, help="camera id in --station")
    parser.add_argument(
        "--person-height",
        default=None,
        metavar="FAR_ROW:FAR_PX,NEAR_ROW:NEAR_PX",
        help="operator-set person heights at two foot rows, when no calibration gives them",
    )
    parser.add_argument("--score-threshold", type=float, default=None, help="minimum detection score")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra backend option (VALUE parsed as JSON when it can be), repeatable",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the edge box's cores per camera)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_detect)
    return parser


def parse_frames(text: str) -> tuple[int, int]:
    """``"A:B"`` -> ``(A, B)`` inclusive, 1 <= A <= B.

    Raises:
        ValueError: Not two integers, or out of order.
    """
    first, sep, last = text.partition(":")
    try:
        start, stop = int(first), int(last)
    except ValueError:
        raise ValueError(f"--frames must be A:B with integers, got {text!r}") from None
    if not sep or start < 1 or stop < start:
        raise ValueError(f"--frames must be A:B with 1 <= A <= B, got {text!r}")
    return start, stop


def parse_person_height(text: str) -> tuple[float, float, float, float]:
    """``"FAR_ROW:FAR_PX,NEAR_ROW:NEAR_PX"`` -> the four numbers.

    Raises:
        ValueError: Not two ``row:px`` pairs.
    """
    try:
        (far_row, far_px), (near_row, near_px) = ([float(v) for v in part.split(":")] for part in text.split(","))
    except ValueError:
        raise ValueError(f"--person-height must be FAR_ROW:FAR_PX,NEAR_ROW:NEAR_PX, got {text!r}") from None
    return far_row, far_px, near_row, near_px


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--option must be KEY=VALUE, got {pair!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def _camera_setup(args: argparse.Namespace) -> tuple[Any, Any, dict[str, Any], str | None]:
    """(calibration, camera, detector options, camera's backend) for --station/--camera, or Nones."""
    if args.station is None and args.camera is None:
        return None, None, {}, None
    if args.station is None or args.camera is None:
        raise ValueError("--station and --camera go together")
    from crowdmap.commands._common import load_or_exit
    from homography.scene import floor_mask_px, person_height_px_per_row

    station = load_or_exit(args.station)
    cameras = {c.id: c for c in station.layout.cameras}
    if args.camera not in cameras:
        raise ValueError(f"camera {args.camera!r} is not in station {args.station!r}; it has {sorted(cameras)}")
    camera = cameras[args.camera]
    calib = station.calibrations[camera.id]
    floor = station.layout.floor(camera.floor)
    options = dict(camera.detector)
    backend = options.pop("backend", None)
    options["person_height_px"] = person_height_px_per_row(calib, floor)
    options["floor_mask"] = floor_mask_px(calib, floor)
    return calib, camera, options, backend


def _build_detector(args: argparse.Namespace, options: dict[str, Any], camera_backend: str | None) -> tuple[Any, str]:
    import torch

    from detector import DEFAULT_BACKEND, create_detector

    torch.set_num_threads(max(1, args.threads))
    backend = args.backend or camera_backend or DEFAULT_BACKEND
    options = {**options, **_parse_options(args.option)}
    if args.score_threshold is not None:
        options["score_threshold"] = args.score_threshold
    return create_detector(backend, **options), backend


def run_detect(args: argparse.Namespace) -> int:
    """Handler of ``crowdmap eval detect``; prints the scores, returns the exit code."""
    try:
        if args.video is not None:
            result = _detect_video(args)
        else:
            result = _detect_image(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"crowdmap eval detect: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for key, value in sorted(result.items()):
            print(f"{key:>24}: {value}")
    return 0


def _detect_video(args: argparse.Namespace) -> dict[str, Any]:
    import cv2

    from detector.evaluation import BoxScore, foot_points, load_mot_boxes

    if args.gt is None:
        raise ValueError("--video needs --gt MOT_TXT")
    if args.gt_points is not None or args.person_height is not None:
        raise ValueError("--gt-points and --person-height belong to --image mode")
    if not args.video.is_file():
        raise FileNotFoundError(f"--video {args.video}: no such file")
    truth = load_mot_boxes(args.gt)
    start, stop = parse_frames(args.frames) if args.frames else (min(truth), max(truth))
    calib, camera, options, camera_backend = _camera_setup(args)
    detector, backend = _build_detector(args, options, camera_backend)
    to_floor = None
    if calib is not None:
        from homography.calibration import to_floor as project

        def to_floor(points_px: np.ndarray) -> np.ndarray:
            xy_m, valid = project(points_px=points_px, calib=calib)
            return np.where(valid[:, None], xy_m, np.nan)

    capture = cv2.VideoCapture(str(args.video))
    if not capture.isOpened():
        raise ValueError(f"--video {args.video}: OpenCV cannot open it")
    # Ground-truth frame k is video frame k - 1.
    capture.set(cv2.CAP_PROP_POS_FRAMES, start - 1)
    score = BoxScore()
    times_ms = []
    camera_id = camera.id if camera is not None else args.video.stem
    try:
        for number in range(start, stop + 1):
            ok, frame = capture.read()
            if not ok:
                raise ValueError(f"--video {args.video} ends before ground-truth frame {number}")
            began = time.perf_counter()
            found = detector.detect(frame, camera_id=camera_id, timestamp=float(number))
            times_ms.append((time.perf_counter() - began) * 1000.0)
            gt = truth.get(number, np.zeros((0, 4)))
            feet = (to_floor(found.foot_px), to_floor(foot_points(gt))) if to_floor is not None else (None, None)
            score.add(found.xyxy_px, gt, pred_feet_m=feet[0], gt_feet_m=feet[1])
            del frame  # frames live only as long as this loop step (PRIVACY.md P1)
    finally:
        capture.release()
    result: dict[str, Any] = score.summary()
    result.update(
        backend=backend,
        frames_range=[start, stop],
        ms_per_frame_median=float(np.median(times_ms)),
        fps_per_camera=1000.0 / float(np.median(times_ms)),
        threads=args.threads,
        station=args.station,
        camera=args.camera,
    )
    return result


def _detect_image(args: argparse.Namespace) -> dict[str, Any]:
    import cv2

    from detector.evaluation import load_points_csv, point_score
    from detector.scene import SceneHints

    if args.gt_points is None:
        raise ValueError("--image needs --gt-points CSV")
    if args.gt is not None or args.frames is not None:
        raise ValueError("--gt and --frames belong to --video mode")
    image = cv2.imread(str(args.image), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"--image {args.image}: missing or not an image")
    points = load_points_csv(args.gt_points)
    calib, camera, options, camera_backend = _camera_setup(args)
    if args.person_height is not None:
        if calib is not None:
            raise ValueError("give either --station/--camera or --person-height, not both")
        far_row, far_px, near_row, near_px = parse_person_height(args.person_height)
        hints = SceneHints.from_near_far(
            image_wh=(image.shape[1], image.shape[0]),
            far_row_px=far_row,
            far_height_px=far_px,
            near_row_px=near_row,
            near_height_px=near_px,
        )
        options["person_height_px"] = hints.person_height_px
    detector, backend = _build_detector(args, options, camera_backend)
    camera_id = camera.id if camera is not None else args.image.stem
    detector.detect(image, camera_id=camera_id, timestamp=0.0)  # warm-up: first call plans tiles
    began = time.perf_counter()
    found = detector.detect(image, camera_id=camera_id, timestamp=0.0)
    elapsed_ms = (time.perf_counter() - began) * 1000.0
    tiles = getattr(detector, "tiles_for", None)
    result: dict[str, Any] = point_score(found.xyxy_px, points)
    result.update(
        backend=backend,
        frames=1,
        ms_per_frame_median=elapsed_ms,
        tiles=len(tiles((image.shape[1], image.shape[0]))) if tiles else None,
        threads=args.threads,
        station=args.station,
        camera=args.camera,
        person_height=args.person_height,
    )
    return result
