"""``crowdmap run``: a station with real cameras (or a recorded video) on this machine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crowdmap.commands._common import add_embedded_arguments, add_station_option, embedded_options, load_or_exit


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap run``."""
    parser = subparsers.add_parser(
        "run",
        help="run a station's real pipeline on this machine",
        description="Run every camera of a station through detector, projection, iconizer and web server.",
    )
    add_station_option(parser)
    parser.add_argument("--video", type=Path, default=None, help="video file for cameras whose source is '{video}'")
    parser.add_argument("--backend", default=None, help="detector backend for every camera (default: each camera's)")
    add_embedded_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run a station's cameras until interrupted or ``--duration`` has passed."""
    from crowdmap.embedded import run_embedded

    station = load_or_exit(args.station)
    needs_video = [c.id for c in station.layout.cameras if c.source == "{video}"]
    if needs_video and args.video is None:
        print(f"crowdmap run: cameras {needs_video} read '{{video}}': give --video PATH", file=sys.stderr)
        return 2
    if args.video is not None and not args.video.is_file():
        print(f"crowdmap run: --video {args.video}: no such file", file=sys.stderr)
        return 2
    edge = {"video": str(args.video.resolve()) if args.video else None, "backend": args.backend}
    return run_embedded(station, embedded_options(args, edge))
