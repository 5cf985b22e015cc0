"""``crowdmap edge``: run one or more cameras of a station and publish their positions to Redis.

    crowdmap edge --station LAYOUT --camera ID [--redis URL] [--ops-port PORT]
    crowdmap edge --station LAYOUT --cameras A,B [--redis URL]

Each camera runs in its own thread with an :class:`crowdmap.tiers.edge.EdgeWorker`; all of them
append to the station's positions stream through one bounded publisher. Frames stay in this
process (PRIVACY.md P1). A camera whose worker fails is rebuilt with backoff while the others
keep running; what it reports (``reconnecting``, ``stalled``, ``dead`` and a short error) goes
to the aggregator, which marks its zones stale, and to ``/metrics``.
The process itself is :mod:`crowdmap.tiers.edge_process`.
"""

from __future__ import annotations

import argparse

from bus.redis_link import (
    DEFAULT_BUFFER_MESSAGES,
    DEFAULT_POSITIONS_MAXLEN,
    DEFAULT_POSITIONS_RETENTION_S,
    MAX_RETENTION_S,
)
from crowdmap.commands._scaleout import (
    add_scaleout_parser,
    finish_scaleout_parser,
    ops_starter,
    setup_logging,
    stop_on_signals,
)

DESCRIPTION = """\
Run one or more cameras of a station on this machine and publish where people stand (floor
positions, never images) to the station's Redis stream, for 'crowdmap aggregate'.

    crowdmap edge --station LAYOUT --camera ID [--redis URL] [--ops-port PORT]
    crowdmap edge --station LAYOUT --cameras A,B [--redis URL]

Frames stay in this process. A camera that fails is reopened with backoff while the others keep
running; its state goes to the aggregator (its zones show "no data") and to /metrics.
Setting up several machines: docs/DEPLOYMENT.md.
"""


def run_edge(args: argparse.Namespace) -> int:
    """Handler of ``crowdmap edge``."""
    from crowdmap.station import load_station
    from crowdmap.tiers.edge_process import EdgeOptions, run_edge_process

    if not 0 < args.retention_s <= MAX_RETENTION_S:
        raise SystemExit(f"crowdmap: --retention-s must lie in (0, {MAX_RETENTION_S:g}], got {args.retention_s}")
    station = load_station(args.station)
    setup_logging(args, "edge", station.id)
    camera_ids = [args.camera] if args.camera else [c.strip() for c in args.cameras.split(",") if c.strip()]
    station.cameras(camera_ids)  # fails here, before anything starts, naming an unknown camera
    options = EdgeOptions(
        redis_url=args.redis,
        observer={"video": args.video, "backend": args.backend, "seed": args.sim_seed},
        sim_epoch_s=args.sim_epoch,
        maxlen=args.maxlen,
        retention_s=args.retention_s,
        buffer_messages=args.buffer,
    )
    return run_edge_process(station, camera_ids, options, stop_on_signals(), ops_starter(args))


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap edge``."""
    parser = add_scaleout_parser(
        subparsers, "edge", help="run cameras of a station and publish floor positions to Redis",
        description=DESCRIPTION, redis_required=False,
    )  # fmt: skip
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--camera", metavar="ID", help="the camera to run")
    which.add_argument("--cameras", metavar="A,B", help="several cameras, comma-separated, in one process")
    parser.add_argument("--video", metavar="PATH", help="video file for cameras whose source is '{video}'")
    parser.add_argument("--backend", help="detector backend overriding the cameras' own")
    parser.add_argument("--sim-seed", type=int, default=None, help="seed of the simulated crowd (sim cameras)")
    parser.add_argument(
        "--sim-epoch", type=float, default=None,
        help="start time of the simulation, unix seconds (default: shared through Redis by all edges)",
    )  # fmt: skip
    parser.add_argument(
        "--maxlen", type=int, default=DEFAULT_POSITIONS_MAXLEN, help="approximate length of the positions stream"
    )
    parser.add_argument(
        "--retention-s", type=float, default=DEFAULT_POSITIONS_RETENTION_S,
        help=f"raw positions older than this leave Redis, and the stream expires this long after the last "
        f"one (0-{MAX_RETENTION_S:g} s; default {DEFAULT_POSITIONS_RETENTION_S:g})",
    )  # fmt: skip
    parser.add_argument(
        "--buffer", type=int, default=DEFAULT_BUFFER_MESSAGES,
        help="messages kept while Redis is away before the oldest are dropped",
    )  # fmt: skip
    finish_scaleout_parser(parser, run_edge)
