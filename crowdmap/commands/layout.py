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
    from crowdmap.station_check import check_station
    from station import LayoutError, load_layout, resolve_station_path

    try:
        path = resolve_station_path(args.layout)
        layout = load_layout(path)
    except LayoutError as error:
        print(f"crowdmap layout check: {error}", file=sys.stderr)
        return 2
    details = layout.notice.contact_details
    for name in details.placeholders():
        print(
            f"crowdmap layout check: warning: notice.contact_details.{name} {getattr(details, name)!r} is on a "
            "domain reserved for examples: it reaches nobody; put the station's real contact there before going live",
            file=sys.stderr,
        )
    check = check_station(path)
    print(
        f"{'camera':<16} {'floor':<12} {'calibration':<15} {'pairs':>5} {'rms':>9} {'max':>9} {'loo rms':>9} "
        f"{'coverage':>12}  status"
    )
    for camera in check.cameras:
        status = "ok" if camera.error is None else f"FAILED: {camera.error}"
        print(
            f"{camera.camera_id:<16} {camera.floor_id:<12} {camera.kind:<15} {camera.pairs:>5} "
            f"{_fmt(camera.rms_error_m):>9} {_fmt(camera.max_residual_m):>9} {_fmt(camera.loo_rms_error_m):>9} "
            f"{_fmt(camera.coverage_m2, ' m2'):>12}  {status}"
        )
    described = [camera for camera in check.cameras if camera.detector_summary]
    if described:
        print("people and the detector:")
        for camera in described:
            flag = " (detector out of range)" if camera.detector_in_range is False else ""
            print(f"  {camera.camera_id}{flag}: {camera.detector_summary}")
    failed = [camera.camera_id for camera in check.cameras if camera.error is not None]
    if failed:
        print(
            f"crowdmap layout check: {len(failed)} of {len(check.cameras)} cameras failed: {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    print(f"{len(check.cameras)} cameras ok")
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
