"""``crowdmap serve``: one web process of a station, fed from Redis; run as many as needed.

    crowdmap serve --station LAYOUT --redis URL [--host ADDR] [--port PORT] [--ops-port PORT]

All web processes share Flask-SocketIO's Redis message queue, so a client connected to any of
them gets every frame; each keeps its own view of the station (latest frame, alerts, trends,
camera health) by reading the frames stream itself. One of them, elected with a Redis lease,
relays the frames into the message queue (see :mod:`crowdmap.tiers.relay`). Put them behind a
reverse proxy with sticky sessions (docs/DEPLOYMENT.md). The process itself is
:mod:`crowdmap.tiers.serve_process`.

Other settings (secret key, data folder, cookies, backlog) come from ``CROWDMAP_*`` variables,
see :mod:`webmap.settings`.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

from crowdmap.commands._scaleout import add_scaleout_parser, finish_scaleout_parser, ops_starter, setup_logging

log = logging.getLogger(__name__)


DESCRIPTION = """\
Run one web process of a station (public map, staff dashboard, REST API), fed from Redis; run as
many as the visitors need, behind a reverse proxy with sticky sessions. Every process shows every
frame to its clients.

    crowdmap serve --station LAYOUT --redis URL [--host ADDR] [--port PORT] [--ops-port PORT]

The secret key, data folder, cookies and limits come from CROWDMAP_* environment variables
(docs/DEPLOYMENT.md).
"""


def run_serve(args: argparse.Namespace) -> int:
    """Handler of ``crowdmap serve``."""
    # gevent must patch the standard library before sockets or threads exist in this process.
    from gevent import monkey

    monkey.patch_all()
    from dataclasses import replace

    from crowdmap.tiers.serve_process import run_serve_process
    from station import load_station_layout, resolve_station_path
    from webmap.settings import WebSettings

    layout = load_station_layout(args.station)
    setup_logging(args, "serve", layout.station.id)
    settings = replace(WebSettings.from_env(), message_queue=args.redis, host=args.host, port=args.port)
    return run_serve_process(
        layout,
        resolve_station_path(args.station),
        settings,
        history_url=args.history,
        lease_ttl_s=args.lease_ttl,
        start_ops=ops_starter(args),
    )


def register(subparsers: Any) -> None:
    """Add ``crowdmap serve``."""
    parser = add_scaleout_parser(
        subparsers, "serve", help="a web process fed from Redis (run several behind a proxy)",
        description=DESCRIPTION, redis_required=True,
    )  # fmt: skip
    parser.add_argument("--host", default=os.environ.get("CROWDMAP_HOST", "127.0.0.1"), help="address to bind")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CROWDMAP_PORT", "8000")), help="port to bind")
    parser.add_argument("--history", metavar="URL", help="history store to read (sqlite path or postgresql:// URL)")
    parser.add_argument(
        "--lease-ttl", type=float, default=3.0,
        help="seconds before another web process takes over relaying when this one dies",
    )  # fmt: skip
    finish_scaleout_parser(parser, run_serve)
