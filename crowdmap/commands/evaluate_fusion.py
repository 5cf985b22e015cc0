"""``crowdmap eval fusion``: the command line of :mod:`iconizer.fusion_evaluation`."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from iconizer.fusion import FusionSettings
from iconizer.fusion_evaluation import DEFAULT_MIN_CONFIDENCE, DEFAULT_PIXEL_SIGMA_PX, Perturbation, evaluate_fusion

DESCRIPTION = """\
Score multi-camera projection and fusion on the WILDTRACK dataset (7 calibrated cameras over one
square). Each camera's ground-truth boxes stand in for a detector: their foot points, optionally
degraded (pixel noise, missed boxes, false boxes), are projected with that camera's calibration,
fused across the cameras and compared with the true ground positions (matched within 0.5 m).
"""


def parse_frame_range(text: str) -> tuple[int, int]:
    """``"A:B"`` -> ``(A, B)``, inclusive WILDTRACK frame numbers."""
    try:
        first_text, last_text = text.split(":")
        first, last = int(first_text), int(last_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--frames must look like A:B (e.g. 0:995), got {text!r}") from None
    if first < 0 or last < first:
        raise argparse.ArgumentTypeError(f"--frames needs 0 <= A <= B, got {text!r}")
    return first, last


def _run(args: argparse.Namespace) -> int:
    from crowdmap.progress import progress_bar, ticking

    first, last = args.frames
    bar = progress_bar(total=None, description="eval fusion", unit="frame")

    def set_total(frames: int) -> None:
        bar.reset(total=frames)

    try:
        with ticking(bar):
            report = evaluate_fusion(
                args.wildtrack,
                first=first,
                last=last,
                perturbation=Perturbation(args.noise_px, args.miss_rate, args.false_rate, args.seed),
                pixel_sigma_px=args.pixel_sigma_px,
                settings=FusionSettings(min_confidence=args.min_confidence),
                use_coverage=not args.no_coverage,
                on_frames=set_total,
                on_frame=bar.update,
            )
    except ValueError as error:
        print(f"crowdmap eval fusion: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True, default=lambda v: None if math.isnan(v) else v))
    else:
        for key in ("moda", "modp", "precision", "recall", "count_mae", "position_error_m_median"):
            print(f"{key:>24}: {report[key]:.4f}")
        print(f"{'frames':>24}: {report['frames']} ({report['first_frame']}..{report['last_frame']})")
    return 0


def add_fusion_parser(eval_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``fusion`` to the ``crowdmap eval`` subcommands."""
    parser = eval_subparsers.add_parser(
        "fusion", help="score multi-camera projection and fusion on WILDTRACK", description=DESCRIPTION
    )
    parser.add_argument("--wildtrack", required=True, type=Path, help="the WILDTRACK dataset folder")
    parser.add_argument(
        "--frames", type=parse_frame_range, default=(0, 995), help="WILDTRACK frames A:B, inclusive (default 0:995)"
    )
    parser.add_argument("--noise-px", type=float, default=0.0, help="foot point noise, pixels (sigma per axis)")
    parser.add_argument("--miss-rate", type=float, default=0.0, help="probability that a box is missed")
    parser.add_argument("--false-rate", type=float, default=0.0, help="false boxes per true box (Poisson mean)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the perturbations")
    parser.add_argument(
        "--pixel-sigma-px", type=float, default=DEFAULT_PIXEL_SIGMA_PX, help="expected foot point error given to fusion"
    )
    parser.add_argument(
        "--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE, help="drop fused dots below this confidence"
    )
    parser.add_argument("--no-coverage", action="store_true", help="do not tell fusion which cameras cover each spot")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.set_defaults(handler=_run)
    return parser
