"""``crowdmap calibrate``: the operator calibration tool for one camera, run on its edge node."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from dataclasses import replace
from pathlib import Path

from crowdmap.commands._common import add_station_option

log = logging.getLogger("crowdmap.calibrate")
DEFAULT_CALIBRATE_PORT = 8100

DESCRIPTION = """\
Run the calibration tool for one camera: a web page on http://127.0.0.1:8100/ where a logged-in
operator clicks matching points on a still of the camera and on the floor plan, sees the error in
metres and the camera's coverage, then saves them to the layout's cameras/<ID>.yaml (the previous
version is kept in cameras/history/, the change written to the audit log).

It shows camera images, so it listens on the loopback address only: reach it through an SSH
tunnel, never expose it. Accounts are the dashboard's: crowdmap users add NAME --role operator.
The guide is docs/OPERATOR.md.
"""


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


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap calibrate``."""
    calibrate = subparsers.add_parser(
        "calibrate",
        help="run the operator calibration tool for one camera (edge side, loopback only by default)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_station_option(calibrate)
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
