"""``crowdmap history purge|export``: the retention job and the CSV export of zone aggregates.

The store holds only per-zone, per-minute aggregates (PRIVACY.md P3). Which store: ``--history
URL`` (a SQLite path, ``sqlite:///...`` or ``postgresql://...``), else the station's SQLite file
in ``--data-dir`` (the same default as ``crowdmap run``).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from crowdmap.embedded import EmbeddedOptions
from station import LayoutError, StationLayout, load_layout, resolve_station_path

if TYPE_CHECKING:
    from history.store import HistoryStore


def _layout(args: argparse.Namespace) -> StationLayout:
    try:
        return load_layout(resolve_station_path(args.station))
    except LayoutError as error:
        print(f"crowdmap history: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _open(args: argparse.Namespace, layout: StationLayout) -> HistoryStore:
    """The station's existing history store; a mistyped folder or path is an error, never a new empty store."""
    from history.store import open_store  # loaded only by the history commands

    command = f"crowdmap history {args.history_command}"
    url = args.history
    if url is None:
        if args.data_dir is not None and not args.data_dir.is_dir():
            print(f"{command}: --data-dir {args.data_dir}: no such folder", file=sys.stderr)
            raise SystemExit(2)
        options = EmbeddedOptions() if args.data_dir is None else EmbeddedOptions(data_dir=args.data_dir)
        url = options.history(layout.station.id)
    try:
        return open_store(url, create=False)
    except FileNotFoundError:
        print(
            f"{command}: no history of station {layout.station.id!r} at {url} "
            "(check --data-dir or --history; 'crowdmap run' and 'crowdmap aggregate' create it)",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    except (ValueError, OSError) as error:
        print(f"{command}: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _instant(text: str, timezone: str) -> float:
    """Unix seconds from ISO 8601; a time without offset is the station's local time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(
            f"crowdmap history: expected an ISO 8601 time such as 2026-11-27T08:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.timestamp()


def _purge(args: argparse.Namespace) -> int:
    layout = _layout(args)
    days = args.retention_days if args.retention_days is not None else layout.publishing.history_retention_days
    if days < 1:
        print(f"crowdmap history purge: --retention-days must be >= 1, got {days}", file=sys.stderr)
        return 2
    with _open(args, layout) as store:
        deleted = store.purge(time.time(), days)
    print(f"deleted {deleted} minute rows older than {days} days")
    return 0


def _export(args: argparse.Namespace) -> int:
    layout = _layout(args)
    timezone = layout.station.timezone
    until_s = _instant(args.until, timezone) if args.until else time.time()
    since_s = _instant(args.since, timezone) if args.since else until_s - 86400
    if since_s >= until_s:
        print("crowdmap history export: --since must be before --until", file=sys.stderr)
        return 2
    zone_ids = [zone.id for zone in layout.zones]
    if args.zone is not None and args.zone not in zone_ids:
        print(f"crowdmap history export: no zone {args.zone!r}; zones are {zone_ids}", file=sys.stderr)
        return 2
    with _open(args, layout) as store:
        if args.out is None:
            rows = store.export_csv(sys.stdout, layout.station.id, since_s, until_s, args.zone)
            sys.stdout.flush()  # a closed pipe shows here, inside the command, not at interpreter exit
        else:
            with open(args.out, "w", encoding="utf-8", newline="") as out:
                rows = store.export_csv(out, layout.station.id, since_s, until_s, args.zone)
    print(f"exported {rows} minute rows", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap history`` and its subcommands."""
    parser = subparsers.add_parser(
        "history",
        help="purge or export the per-zone history (aggregates only)",
        description=(
            "The history store holds per-zone, per-minute aggregates only (counts, density, level), never "
            "images or positions. 'purge' deletes minutes older than the retention period; 'export' writes "
            "them as CSV. The store is --history URL, or the station's SQLite file in --data-dir (the same "
            "default as 'crowdmap run')."
        ),
    )
    commands = parser.add_subparsers(dest="history_command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--station", default=None, help="station name or layout folder (default: the demo station)")
        sub.add_argument("--history", default=None, metavar="URL", help="SQLite path, sqlite:/// or postgresql:// URL")
        sub.add_argument("--data-dir", type=Path, default=None, help="folder holding history-<station>.sqlite3")

    purge = commands.add_parser(
        "purge",
        help="delete minutes older than the retention period",
        description="Delete the minutes older than --retention-days (default: the layout's retention).",
    )
    common(purge)
    purge.add_argument(
        "--retention-days", type=int, default=None, help="default: the layout's publishing.history_retention_days"
    )
    purge.set_defaults(handler=_purge)

    export = commands.add_parser(
        "export",
        help="write per-zone minute aggregates as CSV",
        description="Write per-zone minute aggregates between --since and --until (default: the last 24 h) as CSV.",
    )
    common(export)
    export.add_argument("--since", default=None, help="ISO 8601 start (station local time unless an offset is given)")
    export.add_argument("--until", default=None, help="ISO 8601 end (default now)")
    export.add_argument("--zone", default=None, help="one zone id (default every zone)")
    export.add_argument("--out", default=None, help="CSV file (default standard output)")
    export.set_defaults(handler=_export)
