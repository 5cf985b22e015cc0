"""``crowdmap serve``: one web process of a station, fed from Redis; run as many as needed.

    crowdmap serve --station LAYOUT --redis URL [--host ADDR] [--port PORT] [--ops-port PORT]

All web processes share Flask-SocketIO's Redis message queue, so a client connected to any of
them gets every frame; each keeps its own view of the station (latest frame, alerts, trends,
camera health) by reading the frames stream itself. One of them, elected with a Redis lease,
relays the frames into the message queue (see :mod:`crowdmap.tiers.relay`). Put them behind a
reverse proxy with sticky sessions (docs/DEPLOYMENT.md).

Other settings (secret key, data folder, cookies, backlog) come from ``CROWDMAP_*`` variables,
see :mod:`webmap.settings`.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import time
from typing import Any

from crowdmap.commands._scaleout import (
    add_log_format_option,
    add_ops_options,
    add_redis_option,
    add_station_option,
    ops_starter,
    setup_logging,
)

log = logging.getLogger(__name__)
# The relay loop comes round at least every second; this long without it, the process is stuck.
RELAY_SILENCE_S = 10.0


def run_serve(args: argparse.Namespace) -> int:
    """Handler of ``crowdmap serve``."""
    # gevent must patch the standard library before sockets or threads exist in this process.
    from gevent import monkey

    monkey.patch_all()
    import signal
    from dataclasses import replace

    import gevent

    from bus.redis_link import connect, frames_stream
    from bus.redis_subscribers import RedisStreamSubscriber
    from crowdmap.station_check import check_in_subprocess
    from crowdmap.tiers.ops import Check, FunctionCollector
    from crowdmap.tiers.relay import FrameRelay, RelayGate, RelayLease, relay_lease_key, relay_metrics
    from station import load_station_layout, resolve_station_path
    from webmap.app import create_app, hub_of, serve
    from webmap.settings import WebSettings

    layout = load_station_layout(args.station)
    setup_logging(args, "serve", layout.station.id)
    settings = replace(WebSettings.from_env(), message_queue=args.redis, host=args.host, port=args.port)
    history = None
    if args.history:
        from history.source import StoreHistorySource
        from history.store import open_store

        history = StoreHistorySource(open_store(args.history), timezone=layout.station.timezone)
    # Calibration errors and camera coverage are fitted in a child process that may load OpenCV.
    check = check_in_subprocess(resolve_station_path(args.station))
    app, sio = create_app(settings, layouts=[layout], history=history, checks=[check] if check else None)
    hub = hub_of(app)

    holder = f"{socket.gethostname()}:{os.getpid()}:{args.port}"
    lease = RelayLease(connect(args.redis), relay_lease_key(layout.station.id), holder, ttl_s=args.lease_ttl)
    gate = RelayGate(hub.emitter, lease)
    hub.emitter = gate
    subscriber = RedisStreamSubscriber(args.redis, frames_stream(layout.station.id))
    relay = FrameRelay(hub, subscriber, gate)
    stopping = {"now": False}

    registry = app.extensions["crowdmap_metrics"].registry
    registry.register(FunctionCollector(lambda: relay_metrics(relay)))

    def relay_alive() -> Check:
        silence_s = time.monotonic() - relay.last_receive_s
        return Check(ok=silence_s < RELAY_SILENCE_S, detail={"relay_silence_s": round(min(silence_s, 1e9), 2)})

    def ready() -> Check:
        alive = relay_alive()
        connected = subscriber.link.connected
        return Check(ok=alive.ok and connected, detail={**alive.detail, "redis_connected": connected})

    # Everything /metrics has (cameras, logins, the relay, the bus): for Prometheus on the ops
    # address (localhost by default); anonymous /metrics on the web port shows the public view only.
    ops_starter(args)(registry, relay_alive, ready)

    def shutdown() -> None:
        # Hand the relay over at once instead of after the lease runs out.
        stopping["now"] = True
        lease.release()
        log.info("web process stopping")
        logging.shutdown()
        os._exit(0)

    gevent.signal_handler(signal.SIGTERM, shutdown)
    gevent.signal_handler(signal.SIGINT, shutdown)
    sio.start_background_task(relay.run, lambda: stopping["now"])
    serve(app, sio, host=args.host, port=args.port)
    return 0


def register(subparsers: Any) -> None:
    """Add ``crowdmap serve``."""
    parser = subparsers.add_parser(
        "serve", help="a web process fed from Redis (run several behind a proxy)", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add_station_option(parser)
    add_redis_option(parser, required=True)
    parser.add_argument("--host", default=os.environ.get("CROWDMAP_HOST", "127.0.0.1"), help="address to bind")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CROWDMAP_PORT", "8000")), help="port to bind")
    parser.add_argument("--history", metavar="URL", help="history store to read (sqlite path or postgresql:// URL)")
    parser.add_argument(
        "--lease-ttl", type=float, default=3.0,
        help="seconds before another web process takes over relaying when this one dies",
    )  # fmt: skip
    add_ops_options(parser)
    add_log_format_option(parser)
    parser.set_defaults(handler=run_serve)
