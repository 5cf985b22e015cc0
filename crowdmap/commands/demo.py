"""``crowdmap demo``: the simulated demo station, end to end, on this machine."""

from __future__ import annotations

import argparse

from crowdmap.commands._common import add_embedded_arguments, embedded_options, load_or_exit

DEMO_SEED = 2009


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="run the simulated demo station (edge workers, aggregator, web server)",
        description="Run the embedded demo station: a pedestrian SIMULATION stands in for cameras and detector; "
        "everything downstream (projection, fusion, iconizer, web) runs for real.",
    )
    parser.add_argument("--station", default=None, help="a layout folder or bundled name (default demo-station)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help="simulation seed")
    add_embedded_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo station until interrupted or ``--duration`` has passed."""
    from crowdmap.embedded import run_embedded

    station = load_or_exit(args.station)
    if any(camera.source != "sim" for camera in station.layout.cameras):
        print("crowdmap: demo runs simulated cameras only; use `crowdmap run` for real cameras")
        return 2
    # The first train pulls in 20 s after the station is ready (the URL printed), so even a short
    # run shows a surge, however long the start took.
    return run_embedded(station, embedded_options(args, {"seed": args.seed, "first_train_after_s": 20.0}))
