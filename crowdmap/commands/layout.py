"""``crowdmap layout check``: load a station layout, fit every camera and print its errors."""

from __future__ import annotations

import argparse
import math
import sys

DESCRIPTION = """\
Check a station layout (a layout folder, or the name of a bundled station such as pets2009): load
it, fit every camera's calibration and print, per camera, its calibration error in metres (RMS,
largest, leave-one-out) and the floor area it covers.

Exit status: 0 when every camera can be trusted, 1 when some camera cannot, 2 when the layout
itself does not load (the message names the file, the field and what is wrong).
The format is docs/LAYOUT_FORMAT.md; calibrating a camera is docs/OPERATOR.md.
"""


def _fmt(value: float | None, unit: str = " m") -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3f}{unit}"


def run_check(args: argparse.Namespace) -> int:
    """Handler of ``crowdmap layout check``."""
    from crowdmap.layout_check import check_layout
    from station import LayoutError, resolve_station_path

    try:
        path = resolve_station_path(args.layout)
    except LayoutError as error:
        print(f"crowdmap layout check: {error}", file=sys.stderr)
        return 2
    check = check_layout(path)
    if check.error is not None:
        print(f"crowdmap layout check: {check.error}", file=sys.stderr)
        return 2
    for warning in check.warnings:
        print(f"crowdmap layout check: warning: {warning}", file=sys.stderr)
    print(
        f"{'camera':<16} {'floor':<12} {'calibration':<15} {'pairs':>5} {'rms':>9} {'max':>9} {'loo rms':>9} "
        f"{'coverage':>12}  status"
    )
    for row in check.rows:
        status = "ok" if row["error"] is None else f"FAILED: {row['error']}"
        print(
            f"{row['camera']:<16} {row['floor']:<12} {row['kind']:<15} {row['pairs']:>5} "
            f"{_fmt(row['rms_error_m']):>9} {_fmt(row['max_residual_m']):>9} {_fmt(row['loo_rms_error_m']):>9} "
            f"{_fmt(row['coverage_m2'], ' m2'):>12}  {status}"
        )
    failed = check.failed_cameras
    if failed:
        print(
            f"crowdmap layout check: {len(failed)} of {len(check.rows)} cameras failed: {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    print(f"{len(check.rows)} cameras ok")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap layout check``."""
    layout = subparsers.add_parser(
        "layout",
        help="check station layouts",
        description="Work with station layouts (docs/LAYOUT_FORMAT.md). 'check' loads one and fits its cameras.",
    )
    actions = layout.add_subparsers(dest="action", required=True)
    check = actions.add_parser(
        "check",
        help="load a layout, fit every camera and print its errors",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("layout", metavar="LAYOUT", help="layout folder or bundled station name")
    check.set_defaults(handler=run_check)
