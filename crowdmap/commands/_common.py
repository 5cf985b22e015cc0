"""Arguments shared by the commands: the station, and what ``run`` and ``demo`` run it with.

Command modules import the stages lazily, inside their handlers: building the parser must not
load OpenCV or torch into a process that only serves the web (``crowdmap serve``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crowdmap.embedded import EmbeddedOptions
    from crowdmap.station import Station


def add_station_option(parser: argparse.ArgumentParser) -> None:
    """``--station LAYOUT`` (required): a layout folder or the name of a bundled layout."""
    parser.add_argument(
        "--station", required=True, metavar="LAYOUT", help="layout folder, or the name of a bundled layout"
    )


def add_embedded_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the web server and run-length arguments."""
    parser.add_argument("--host", default="127.0.0.1", help="address of the web server (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port of the web server (default 8000)")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="run this long once the station is up (its URL printed), then exit cleanly",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="history database, accounts and web secret")
    parser.add_argument(
        "--history", default=None, metavar="URL", help="history store: a SQLite path or postgresql:// URL"
    )


def embedded_options(args: argparse.Namespace, edge: dict) -> EmbeddedOptions:
    """The options of ``run_embedded`` from the shared command-line arguments."""
    from crowdmap.embedded import EmbeddedOptions

    if args.duration is not None and args.duration <= 0:
        raise SystemExit(f"crowdmap: --duration must be positive, got {args.duration}")
    if not 0 < args.port < 65536:
        raise SystemExit(f"crowdmap: --port must lie in 1-65535, got {args.port}")
    fields = {
        "host": args.host,
        "port": args.port,
        "duration_s": args.duration,
        "edge": edge,
        "log_level": args.log_level,
    }
    if args.data_dir is not None:
        fields["data_dir"] = args.data_dir
    if args.history is not None:
        fields["history_url"] = args.history
    return EmbeddedOptions(**fields)


def load_or_exit(name_or_path: str | None) -> Station:
    """Load a station, turning a bad layout or calibration into a one-line error and exit code 2."""
    from crowdmap.station import load_station
    from homography.calibration import CalibrationError
    from station import LayoutError

    try:
        return load_station(name_or_path)
    except (LayoutError, CalibrationError) as error:
        print(f"crowdmap: {error}", file=sys.stderr)
        raise SystemExit(2) from None
