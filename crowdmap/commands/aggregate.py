"""``crowdmap aggregate``: the station's aggregator, between the edges and the web tier, over Redis.

    crowdmap aggregate --station LAYOUT --redis URL [--history URL] [--ops-port PORT]

Reads the positions stream through the consumer group ``aggregator`` (a restarted aggregator
resumes from the group), validates every message (anything else is dropped and counted), feeds
the iconizer, and appends the station's icon frames and camera health to the frames stream once
per ``frame_interval_s``. Only one aggregator per station should run: two would each publish a
frame per tick. The process itself is :mod:`crowdmap.tiers.aggregate_process`.
"""

from __future__ import annotations

import argparse
from typing import Any

from bus.redis_link import DEFAULT_FRAMES_MAXLEN
from crowdmap.commands._scaleout import (
    add_scaleout_parser,
    finish_scaleout_parser,
    ops_starter,
    setup_logging,
    stop_on_signals,
)
from crowdmap.tiers.aggregate_process import DEFAULT_EDGE_SILENCE_S

DESCRIPTION = """\
Run the station's aggregator: read every camera's floor positions from Redis, merge them into
anonymous dots and zone crowding levels, publish a frame every frame interval (1 s by default) for
'crowdmap serve', and write the per-zone minutes to the history store.

    crowdmap aggregate --station LAYOUT --redis URL [--history URL] [--ops-port PORT]

Run exactly one per station; a restarted aggregator carries on where it stopped.
Setting up several machines: docs/DEPLOYMENT.md.
"""


def run_aggregate(args: argparse.Namespace) -> int:
    """Handler of ``crowdmap aggregate``."""
    from crowdmap.station import load_station
    from crowdmap.tiers.aggregate_process import AggregateOptions, run_aggregate_process

    station = load_station(args.station)
    setup_logging(args, "aggregate", station.id)
    stop = stop_on_signals()
    options = AggregateOptions(
        redis_url=args.redis,
        consumer=args.consumer,
        history_url=args.history,
        edge_silence_s=args.edge_silence_s,
        frames_maxlen=args.frames_maxlen,
    )
    return run_aggregate_process(station, options, stop, ops_starter(args))


def register(subparsers: Any) -> None:
    """Add ``crowdmap aggregate``."""
    parser = add_scaleout_parser(
        subparsers, "aggregate", help="merge a station's positions from Redis into icon frames",
        description=DESCRIPTION, redis_required=True,
    )  # fmt: skip
    parser.add_argument(
        "--consumer", default="aggregator-1",
        help="consumer name in the group; keep it across restarts so pending messages are resumed",
    )  # fmt: skip
    parser.add_argument(
        "--edge-silence-s", type=float, default=DEFAULT_EDGE_SILENCE_S,
        help="a camera not heard of for this long is reported dead and its zones stale (edges report every second)",
    )  # fmt: skip
    parser.add_argument("--history", metavar="URL", help="history store (sqlite path or postgresql:// URL)")
    parser.add_argument(
        "--frames-maxlen", type=int, default=DEFAULT_FRAMES_MAXLEN, help="approximate length of the frames stream"
    )
    finish_scaleout_parser(parser, run_aggregate)
