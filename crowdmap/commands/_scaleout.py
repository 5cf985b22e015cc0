"""What the scale-out commands (``edge``, ``aggregate``, ``serve``) share: options, signals, logging."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from bus.redis_link import redact_url
from crowdmap.commands._common import add_station_option
from crowdmap.logging_setup import LOG_FORMATS, configure_logging
from crowdmap.tiers.ops import Check, OpsServer, OpsStarter

log = logging.getLogger(__name__)

REDIS_URL_ENV = "CROWDMAP_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def add_scaleout_parser(
    subparsers: argparse._SubParsersAction, name: str, *, help: str, description: str, redis_required: bool
) -> argparse.ArgumentParser:
    """The parser of one scale-out command, with the options every one of them starts with.

    ``--station`` and ``--redis`` come first; the command adds its own, then calls
    :func:`finish_scaleout_parser`.
    """
    parser = subparsers.add_parser(
        name, help=help, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_station_option(parser)
    add_redis_option(parser, required=redis_required)
    return parser


def finish_scaleout_parser(parser: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], int]) -> None:
    """Add the options every scale-out command ends with (ops endpoints, log format) and its handler."""
    add_ops_options(parser)
    add_log_format_option(parser)
    parser.set_defaults(handler=handler)


def add_redis_option(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """``--redis URL``, defaulting to ``$CROWDMAP_REDIS_URL`` where that is set."""
    default = os.environ.get(REDIS_URL_ENV) or (None if required else DEFAULT_REDIS_URL)
    parser.add_argument(
        "--redis",
        default=default,
        required=required and default is None,
        metavar="URL",
        help=f"Redis URL (default: ${REDIS_URL_ENV}" + ("" if required else f", else {DEFAULT_REDIS_URL}") + ")",
    )


def add_ops_options(parser: argparse.ArgumentParser) -> None:
    """``--ops-host/--ops-port`` for ``/healthz``, ``/readyz`` and ``/metrics``."""
    parser.add_argument(
        "--ops-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve /healthz, /readyz and /metrics on this port (0: any free port; default: off)",
    )
    parser.add_argument(
        "--ops-host", default="127.0.0.1", help="address of the ops endpoints (default: localhost only)"
    )


def add_log_format_option(parser: argparse.ArgumentParser) -> None:
    """``--log-format json|text``."""
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=os.environ.get("CROWDMAP_LOG_FORMAT", "json"),
        help="json: one object per line for log collectors; text: for people (default: json)",
    )


def setup_logging(args: argparse.Namespace, role: str, station_id: str) -> None:
    """Structured logging with the process's role and station on every line."""
    configure_logging(level=args.log_level, fmt=args.log_format, context={"role": role, "station": station_id})
    log.info("%s process for station %s, Redis at %s", role, station_id, redact_url(args.redis))


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: the process finishes its loops and exits cleanly."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def ops_starter(args: argparse.Namespace) -> OpsStarter:
    """What starts the ops HTTP server of ``--ops-host/--ops-port`` (nothing when no port was given)."""

    def start(registry: CollectorRegistry, health: Callable[[], Check], ready: Callable[[], Check]) -> OpsServer | None:
        if args.ops_port is None:
            return None
        server = OpsServer(host=args.ops_host, port=args.ops_port, registry=registry, health=health, ready=ready)
        return server.start()

    return start
