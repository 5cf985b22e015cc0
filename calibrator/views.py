"""The calibration page, the still and the JSON API; every route needs a logged-in operator.

``GET /``                  the page (image and plan side by side; drawn by ``static/calibrate.js``)
``GET /still.jpg``         the camera still, from memory, ``Cache-Control: no-store``
``POST /api/still``        grab a new still
``GET /api/state``         the camera, its floor plan, its stored pairs and the stored calibration's grid
``POST /api/preview``      pairs -> residuals, leave-one-out errors, grid polylines (px), coverage (m)
``POST /api/save``         pairs -> camera file saved, previous version kept, audit entry
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
from flask import Blueprint, Response, current_app, jsonify, render_template, request, send_file
from flask_login import current_user, login_required
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from calibrator.audit import AuditLog
from calibrator.preview import calibration_overlay_json, preview_to_json
from calibrator.still import StillError, StillHolder
from calibrator.target import CameraTarget, SaveRefused, calibration_kind
from station import PointPair, plan_image_path

logger = logging.getLogger(__name__)
blueprint = Blueprint("tool", __name__)
# More pairs than any operator clicks; bounds the work one request can cause.
MAX_PAIRS = 100
PLAN_IMAGE_URL = "/plan-image"
PLAN_IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
NO_STORE = {"Cache-Control": "no-store, private, max-age=0", "Pragma": "no-cache", "Expires": "0"}


class PairsRequest(BaseModel):
    """The body of ``/api/preview`` and ``/api/save``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    pairs: list[PointPair] = Field(max_length=MAX_PAIRS)


def _target() -> CameraTarget:
    return current_app.extensions["calibrator_target"]


def _stills() -> StillHolder:
    return current_app.extensions["calibrator_stills"]


def _audit() -> AuditLog:
    return current_app.extensions["calibrator_audit"]


def _clock() -> Callable[[], float]:
    return current_app.extensions["calibrator_clock"]


def _json_error(message: str, status: int) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


def _pairs() -> tuple[np.ndarray, np.ndarray] | Response:
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        # Flask's silent mode catches malformed JSON, not JSON nested deeper than Python recurses.
        body = None
    if body is None:
        return _json_error("expected a JSON body {pairs: [{image_px: [u, v], floor_m: [x, y]}, ...]}", 400)
    try:
        parsed = PairsRequest.model_validate(body)
    except ValidationError as error:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5])
        return _json_error(f"invalid pairs: {details}", 400)
    image = np.array([pair.image_px for pair in parsed.pairs], dtype=np.float64).reshape(-1, 2)
    plan = np.array([pair.floor_m for pair in parsed.pairs], dtype=np.float64).reshape(-1, 2)
    return image, plan


@blueprint.route("/")
@login_required
def index() -> str:
    """The calibration page."""
    target = _target()
    return render_template(
        "calibrate.html",
        station=target.layout.station,
        camera=target.camera,
        operator=current_user.name,
    )


@blueprint.route("/still.jpg")
@login_required
def still() -> Response:
    """The current still, straight from memory; never cached by the browser or a proxy."""
    try:
        image = _stills().current()
    except StillError as error:
        return _json_error(str(error), 503)
    response = Response(image.jpeg, mimetype="image/jpeg", headers=NO_STORE)
    response.headers["Content-Disposition"] = "inline"
    return response


@blueprint.route("/api/still", methods=["POST"])
@login_required
def refresh_still() -> Response:
    """Grab a new still from the camera."""
    try:
        image = _stills().refresh()
    except StillError as error:
        return _json_error(str(error), 503)
    return jsonify(grabbed_at=image.grabbed_at, resolution_wh=list(image.resolution_wh))


@blueprint.route("/api/state")
@login_required
def state() -> Response:
    """The camera, its floor plan (metres), its stored pairs and the stored calibration's overlay."""
    target = _target()
    camera, floor = target.camera, target.floor
    calib, calibration_error = target.current_calibration()
    stored = None if calib is None else calibration_overlay_json(calib=calib, floor=floor)
    pairs = camera.calibration.point_pairs or []
    response = jsonify(
        station={"id": target.layout.station.id, "name": target.layout.station.name.model_dump()},
        camera={
            "id": camera.id,
            "resolution_wh": list(camera.resolution_wh),
            "max_error_m": camera.calibration.max_error_m,
            "calibration_kind": calibration_kind(camera),
            "calibration_error": calibration_error,
        },
        floor={
            "id": floor.id,
            "name": floor.name.model_dump(),
            "size_m": list(floor.size_m),
            "walkable_m": [list(map(list, p)) for p in floor.walkable_m],
            "obstacles_m": [list(map(list, p)) for p in floor.obstacles_m],
            "features": [
                {
                    "kind": f.kind,
                    "label": f.label.en if f.label else None,
                    "labels": f.label.model_dump() if f.label else None,
                    "polygon_m": list(map(list, f.polygon_m)),
                }
                for f in floor.features
            ],
            # The station's own drawing of the plan and named spots, for finding plan points.
            "plan_image_url": None if floor.plan_image is None else PLAN_IMAGE_URL,
            "landmarks": [{"label": lm.label.model_dump(), "point_m": list(lm.point_m)} for lm in floor.landmarks],
        },
        zones=[
            {"id": z.id, "name": z.name.en, "names": z.name.model_dump(), "polygon_m": list(map(list, z.polygon_m))}
            for z in target.layout.zones_on(floor.id)
        ],
        pairs=[{"image_px": list(p.image_px), "floor_m": list(p.floor_m)} for p in pairs],
        stored=stored,
    )
    response.headers.update(NO_STORE)
    return response


@blueprint.route(PLAN_IMAGE_URL)
@login_required
def plan_image() -> Response:
    """The floor's plan drawing (the layout's ``plan_image``), drawn under the plan's grid.

    Served as a file of the layout folder, never as markup of this page: an SVG drawing can run
    no script here (sandboxed, ``script-src 'none'``).
    """
    target = _target()
    path = plan_image_path(target.layout_dir, target.floor)
    if path is None or not path.is_file():
        return _json_error(f"floor {target.floor.id!r} has no plan drawing", 404)
    response = send_file(path, mimetype=PLAN_IMAGE_TYPES[path.suffix.lower()], max_age=300)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@blueprint.route("/api/preview", methods=["POST"])
@login_required
def preview() -> Response:
    """Fit the posted pairs and return residuals, leave-one-out errors, grid and coverage."""
    pairs = _pairs()
    if isinstance(pairs, Response):
        return pairs
    return jsonify(preview_to_json(_target().preview(*pairs)))


@blueprint.route("/api/save", methods=["POST"])
@login_required
def save() -> Response:
    """Save the posted pairs to the camera file (422 with the reason when the fit is rejected)."""
    pairs = _pairs()
    if isinstance(pairs, Response):
        return pairs
    now = datetime.fromtimestamp(_clock()(), tz=UTC)
    try:
        result = _target().save(*pairs, user=current_user.name, audit=_audit(), now=now)
    except SaveRefused as error:
        return _json_error(str(error), 422)
    logger.info(
        "calibration tool: %s saved %d pairs for camera %r (RMS %.3f m)",
        current_user.name,
        result.entry.pair_count,
        result.entry.camera,
        result.entry.new_rms_error_m,
    )
    return jsonify(
        saved=True,
        camera_file=str(result.files.camera_file),
        backup_file=str(result.files.backup_file),
        preview=preview_to_json(result.preview),
    )
