"""``crowdmap eval detect``: a detector backend scored on a video with boxes or an image with points.

Video mode scores against ground-truth boxes (MOTChallenge text), image mode against one point per
person: arguments here, the setup of a station's camera in ``crowdmap.evaluation``, the run and the
scores in ``detector.evaluation_runs`` and ``detector.evaluation``.

The JSON printed with ``--json`` is a stable interface (outside checks rely on its keys).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Imported before anything loads torch: it sets torch's OpenMP wait policy for shared cores.
import detector as _detector_package  # noqa: F401
from crowdmap.commands._eval_args import add_run_arguments, parse_frames, parse_options, print_result

if TYPE_CHECKING:
    from crowdmap.evaluation import CameraSetup
    from detector import Detector


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
    parser.add_argument("--station", default=None, help="layout folder or bundled station name")
    parser.add_argument("--camera", default=None, help="camera id in --station")
    parser.add_argument(
        "--person-height",
        default=None,
        metavar="FAR_ROW:FAR_PX,NEAR_ROW:NEAR_PX",
        help="operator-set person heights at two foot rows, when no calibration gives them",
    )
    parser.add_argument("--score-threshold", type=float, default=None, help="minimum detection score")
    add_run_arguments(parser)
    parser.set_defaults(handler=run_detect)
    return parser


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


def _camera_setup(args: argparse.Namespace) -> CameraSetup | None:
    """The --station/--camera setup, or None without them."""
    if args.station is None and args.camera is None:
        return None
    if args.station is None or args.camera is None:
        raise ValueError("--station and --camera go together")
    from crowdmap.commands._common import load_or_exit
    from crowdmap.evaluation import camera_setup

    return camera_setup(load_or_exit(args.station), args.camera, args.station)


def _build_detector(
    args: argparse.Namespace, options: dict[str, Any], camera_backend: str | None
) -> tuple[Detector, str]:
    from crowdmap.evaluation import build_detector
    from detector import DEFAULT_BACKEND

    backend = args.backend or camera_backend or DEFAULT_BACKEND
    options = {**options, **parse_options(args.option)}
    if args.score_threshold is not None:
        options["score_threshold"] = args.score_threshold
    return build_detector(backend, options, threads=args.threads), backend


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
    print_result(result, as_json=args.json, key_width=24)
    return 0


def _detect_video(args: argparse.Namespace) -> dict[str, Any]:
    from crowdmap.progress import progress_bar, ticking
    from detector.evaluation import load_mot_boxes
    from detector.evaluation_runs import evaluate_video

    if args.gt is None:
        raise ValueError("--video needs --gt MOT_TXT")
    if args.gt_points is not None or args.person_height is not None:
        raise ValueError("--gt-points and --person-height belong to --image mode")
    if not args.video.is_file():
        raise FileNotFoundError(f"--video {args.video}: no such file")
    truth = load_mot_boxes(args.gt)
    start, stop = parse_frames(args.frames) if args.frames else (min(truth), max(truth))
    setup = _camera_setup(args)
    options, camera_backend = (setup.detector_options, setup.backend) if setup else ({}, None)
    detector, backend = _build_detector(args, options, camera_backend)
    with ticking(progress_bar(total=stop - start + 1, description="eval detect", unit="frame")) as bar:
        result = evaluate_video(
            detector,
            video=args.video,
            truth=truth,
            frames=(start, stop),
            camera_id=setup.camera.id if setup else args.video.stem,
            to_floor=setup.to_floor if setup else None,
            on_frame=bar.update,
        )
    result.update(backend=backend, threads=args.threads, station=args.station, camera=args.camera)
    return result


def _detect_image(args: argparse.Namespace) -> dict[str, Any]:
    import cv2

    from detector.evaluation import load_points_csv
    from detector.evaluation_runs import evaluate_image
    from detector.scene import SceneHints

    if args.gt_points is None:
        raise ValueError("--image needs --gt-points CSV")
    if args.gt is not None or args.frames is not None:
        raise ValueError("--gt and --frames belong to --video mode")
    image = cv2.imread(str(args.image), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"--image {args.image}: missing or not an image")
    points = load_points_csv(args.gt_points)
    setup = _camera_setup(args)
    options, camera_backend = (dict(setup.detector_options), setup.backend) if setup else ({}, None)
    if args.person_height is not None:
        if setup is not None:
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
    # One still image: nothing to confirm a detection with over time, whatever the camera's setting.
    options["temporal"] = False
    detector, backend = _build_detector(args, options, camera_backend)
    camera_id = setup.camera.id if setup else args.image.stem
    result = evaluate_image(detector, image_bgr=image, points_px=points, camera_id=camera_id)
    result.update(
        backend=backend,
        threads=args.threads,
        station=args.station,
        camera=args.camera,
        person_height=args.person_height,
    )
    return result
