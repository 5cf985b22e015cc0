"""``crowdmap calibrate`` and ``crowdmap layout check``: calibrate a camera, check a station's cameras.

``crowdmap calibrate --station LAYOUT --camera ID`` runs the operator calibration tool for one
camera on this edge node: a web page on http://127.0.0.1:8100/ where a logged-in operator clicks
matching points on a still of the camera and on the floor plan, then saves them to
``cameras/<ID>.yaml`` (the previous version kept in ``cameras/history/``, the change written to
the audit log). It binds to the loopback address: reach it through an SSH tunnel, never expose it.
Accounts are the web dashboard's (``crowdmap users add NAME --role operator``).

``crowdmap layout check LAYOUT`` loads a layout, fits every camera and prints its errors;
it exits 1 when a camera cannot be trusted, 2 when the layout itself does not load.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

log = logging.getLogger("crowdmap.calibrate")
DEFAULT_CALIBRATE_PORT = 8100


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_calibrate(args: argparse.Namespace) -> int:
    """Handler of ``crowdmap calibrate``."""
    from werkzeug.serving import make_server

    from accounts.settings import AccountSettings
    from accounts.users import UserStore
    from calibrator.app import OPERATOR_ROLE, create_app
    from calibrator.audit import AuditLog
    from calibrator.grab import frame_grabber, redact, source_spec
    from calibrator.still import StillError, StillHolder
    from calibrator.target import CameraTarget
    from station import LayoutError, resolve_station_path

    try:
        target = CameraTarget(resolve_station_path(args.station), args.camera)
        camera = target.camera
        spec = source_spec(camera, args.video)
    except (LayoutError, StillError) as error:
        print(f"crowdmap calibrate: {error}", file=sys.stderr)
        return 2
    settings = AccountSettings.from_env()
    if args.data_dir is not None:
        settings = replace(settings, data_dir=args.data_dir)
    users = UserStore(settings.users_db)
    if not any(user.role == OPERATOR_ROLE for user in users.list()):
        print(
            f"crowdmap calibrate: no operator account in {settings.users_db}; "
            "create one with: crowdmap users add NAME --role operator",
            file=sys.stderr,
        )
        return 2
    grab = frame_grabber(spec, target_fps=camera.target_fps, resolution_wh=camera.resolution_wh)
    stills = StillHolder(grab, camera.resolution_wh)
    try:
        stills.refresh()  # fail now, in the terminal, rather than on the operator's first page
    except StillError as error:
        print(f"crowdmap calibrate: camera {camera.id!r} ({redact(spec)}): {error}", file=sys.stderr)
        return 2
    audit = AuditLog(args.audit_log) if args.audit_log is not None else None
    app = create_app(settings, target=target, stills=stills, users=users, audit=audit)
    if not _is_loopback(args.host):
        log.warning(
            "binding the calibration tool to %s: it shows camera images; the edge should expose nothing "
            "to the public network (PRIVACY.md P5). Prefer 127.0.0.1 and an SSH tunnel.",
            args.host,
        )
    server = make_server(args.host, args.port, app, threaded=True)
    log.info(
        "calibration tool for camera %r of %s on http://%s:%d/ (audit log: %s)",
        camera.id,
        target.layout.station.id,
        args.host,
        server.server_port,
        app.extensions["calibrator_audit"].path,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _fmt(value: float | None, unit: str = " m") -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3f}{unit}"


def check_layout(path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """Fit every camera of a layout.

    Returns:
        One row per camera (``camera``, ``floor``, ``kind``, ``pairs``, ``rms_error_m``,
        ``max_residual_m``, ``loo_rms_error_m``, ``coverage_m2``, ``error``), and the layout's own
        error when it does not load (then no rows).
    """
    from calibrator.target import calibration_kind
    from homography.calibration import CalibrationError
    from homography.coverage import coverage_polygon
    from homography.fitting import calibrate_camera
    from station import LayoutError, load_layout

    try:
        layout = load_layout(path)
    except LayoutError as error:
        return [], str(error)
    rows = []
    for camera in layout.cameras:
        row: dict[str, Any] = {
            "camera": camera.id,
            "floor": camera.floor,
            "kind": calibration_kind(camera),
            "pairs": len(camera.calibration.point_pairs or []),
            "rms_error_m": None,
            "max_residual_m": None,
            "loo_rms_error_m": None,
            "coverage_m2": None,
            "error": None,
        }
        try:
            calib = calibrate_camera(camera)
        except CalibrationError as error:
            row["error"] = str(error)
            rows.append(row)
            continue
        if len(calib.residuals_m):
            row["rms_error_m"] = calib.rms_error_m
            row["max_residual_m"] = calib.max_error_m
            row["loo_rms_error_m"] = calib.loo_rms_error_m
        row["coverage_m2"] = float(coverage_polygon(calib, layout.floor(camera.floor)).area)
        rows.append(row)
    return rows, None


def run_check(args: argparse.Namespace) -> int:
    """Handler of ``crowdmap layout check``."""
    from station import LayoutError, resolve_station_path

    try:
        path = resolve_station_path(args.layout)
    except LayoutError as error:
        print(f"crowdmap layout check: {error}", file=sys.stderr)
        return 2
    rows, layout_error = check_layout(path)
    if layout_error is not None:
        print(f"crowdmap layout check: {layout_error}", file=sys.stderr)
        return 2
    print(
        f"{'camera':<16} {'floor':<12} {'calibration':<15} {'pairs':>5} {'rms':>9} {'max':>9} {'loo rms':>9} "
        f"{'coverage':>12}  status"
    )
    for row in rows:
        status = "ok" if row["error"] is None else f"FAILED: {row['error']}"
        print(
            f"{row['camera']:<16} {row['floor']:<12} {row['kind']:<15} {row['pairs']:>5} "
            f"{_fmt(row['rms_error_m']):>9} {_fmt(row['max_residual_m']):>9} {_fmt(row['loo_rms_error_m']):>9} "
            f"{_fmt(row['coverage_m2'], ' m2'):>12}  {status}"
        )
    failed = [row["camera"] for row in rows if row["error"] is not None]
    if failed:
        print(
            f"crowdmap layout check: {len(failed)} of {len(rows)} cameras failed: {', '.join(failed)}", file=sys.stderr
        )
        return 1
    print(f"{len(rows)} cameras ok")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap calibrate`` and ``crowdmap layout check``."""
    calibrate = subparsers.add_parser(
        "calibrate",
        help="run the operator calibration tool for one camera (edge side, loopback only by default)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    calibrate.add_argument("--station", required=True, metavar="LAYOUT", help="layout folder or bundled station name")
    calibrate.add_argument("--camera", required=True, metavar="ID", help="the camera to calibrate")
    calibrate.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    calibrate.add_argument(
        "--port", type=int, default=DEFAULT_CALIBRATE_PORT, help=f"port (default {DEFAULT_CALIBRATE_PORT})"
    )
    calibrate.add_argument("--video", metavar="PATH", help="take the still from this video instead of the camera")
    calibrate.add_argument(
        "--data-dir", type=Path, default=None, help="accounts and secret (default $CROWDMAP_DATA_DIR)"
    )
    calibrate.add_argument(
        "--audit-log",
        type=Path,
        default=None,
        help="JSON-lines audit file (default <data dir>/calibration-audit.jsonl)",
    )
    calibrate.set_defaults(handler=run_calibrate)

    layout = subparsers.add_parser(
        "layout",
        help="check station layouts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = layout.add_subparsers(dest="action", required=True)
    check = actions.add_parser("check", help="load a layout, fit every camera and print its errors")
    check.add_argument("layout", metavar="LAYOUT", help="layout folder or bundled station name")
    check.set_defaults(handler=run_check)
