"""Public pages and the read-only REST API (no login; PRIVACY.md P5)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException

from station import StationLayout
from station.languages import LANG_COOKIE, LANGUAGES, choose_language
from webmap.history import MIN_USUAL_WEEKS, busier_from, minute_row, trend_row, usual_and_weeks
from webmap.hub import Hub
from webmap.i18n import TEXTS
from webmap.openapi import openapi_document
from webmap.operator import camera_places
from webmap.payload import mark_stale

blueprint = Blueprint("public", __name__)

MAX_HISTORY_HOURS = 48


def _hub() -> Hub:
    return current_app.extensions["crowdmap_hub"]


def _layout(station_id: str) -> StationLayout:
    state = _hub().stations.get(station_id)
    if state is None:
        abort(404, description=f"no station {station_id!r}")
    return state.layout


def _default_station() -> StationLayout:
    asked = request.args.get("station")
    hub = _hub()
    if asked is not None:
        return _layout(asked)
    return next(iter(hub.stations.values())).layout


def _cached(response: Response, max_age_s: int) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={max_age_s}"
    return response


def _page(template: str, **context: Any) -> Response:
    lang = choose_language(request)
    other = "en" if lang == "ja" else "ja"
    response = make_response(
        render_template(
            template,
            lang=lang,
            other_lang=other,
            t=TEXTS[lang],
            stations=[s.layout for s in _hub().stations.values()],
            **context,
        )
    )
    if request.args.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax", secure=request.is_secure)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


# ---- pages ------------------------------------------------------------------------------


@blueprint.get("/")
def map_page() -> Response:
    """The public crowding map of one station (``?station=``; the first one by default)."""
    layout = _default_station()
    return _page("map.html", layout=layout)


@blueprint.get("/privacy")
def privacy_page() -> Response:
    """The notice to the public (PRIVACY.md P4), from each station's layout, ``?lang=ja|en``.

    Where the cameras are follows from the layout's cameras and what the station check says
    each one sees, so the notice cannot disagree with the cameras that run.
    """
    checks = current_app.extensions["crowdmap_checks"]
    places = {sid: camera_places(state.layout, checks.get(sid)) for sid, state in _hub().stations.items()}
    return _page("privacy.html", layout=_default_station(), camera_places=places)


# ---- REST API ---------------------------------------------------------------------------


def _text(text: Any) -> dict[str, str]:
    return {"ja": text.ja, "en": text.en}


@blueprint.get("/api/v1/stations")
def stations() -> Response:
    """Every station served, with its floors."""
    out = [
        {
            "id": s.layout.station.id,
            "name": _text(s.layout.station.name),
            "floors": [{"id": f.id, "name": _text(f.name)} for f in s.layout.floors],
        }
        for s in _hub().stations.values()
    ]
    return _cached(jsonify({"stations": out}), 60)


def _no_data_payload(layout: StationLayout) -> dict[str, Any]:
    return {
        "station": layout.station.id,
        "timestamp": None,
        "floors": [
            {
                "floor": floor.id,
                "dots": [],
                "zones": [
                    {"id": z.id, "count": 0, "density_per_m2": 0.0, "level": 0, "los": "A", "stale": True}
                    for z in layout.zones_on(floor.id)
                ],
            }
            for floor in layout.floors
        ],
    }


@blueprint.get("/api/v1/stations/<station_id>/crowding")
def crowding(station_id: str) -> Response:
    """The latest public payload; every zone stale (and no dots) once the feed is older than ``stale_after_s``."""
    layout = _layout(station_id)
    latest = _hub().latest(station_id)
    if latest is None:
        payload = _no_data_payload(layout)
    else:
        now = current_app.extensions["crowdmap_clock"]()
        payload = mark_stale(latest) if now - latest["timestamp"] > layout.publishing.stale_after_s else latest
    return _cached(jsonify(payload), 1)


@blueprint.get("/api/v1/stations/<station_id>/plan")
def plan(station_id: str) -> ResponseReturnValue:
    """The station's geometry for drawing the map: floors, walkable areas, features and zones, in metres."""
    _layout(station_id)
    out = current_app.extensions["crowdmap_plans"][station_id]
    response = _cached(jsonify(out), 300)
    response.add_etag()
    return response.make_conditional(request)


def _zone_ids(layout: StationLayout) -> list[str]:
    return [z.id for z in layout.zones]


@blueprint.get("/api/v1/stations/<station_id>/history")
def history(station_id: str) -> Response:
    """Per-minute aggregates of one zone (never positions): ``?zone=ID&hours=1``."""
    layout = _layout(station_id)
    zone_id = request.args.get("zone", "")
    if zone_id not in _zone_ids(layout):
        abort(400, description=f"zone must be one of {_zone_ids(layout)}")
    try:
        hours = float(request.args.get("hours", "1"))
    except ValueError:
        abort(400, description="hours must be a number")
    if not 0 < hours <= MAX_HISTORY_HOURS:
        abort(400, description=f"hours must lie in (0, {MAX_HISTORY_HOURS}]")
    now = current_app.extensions["crowdmap_clock"]()
    source = current_app.extensions["crowdmap_history"]
    if source is not None:
        rows = [minute_row(m) for m in source.series(station_id, zone_id, now - hours * 3600, now) if m.live_samples]
        origin = "history"
    else:
        rows = [trend_row(row, zone_id) for row in _hub().trend(station_id, zone_id)]
        rows = [row for row in rows if row["minute_start"] >= now - hours * 3600]
        origin = "recent"
    return _cached(jsonify({"station": station_id, "zone": zone_id, "source": origin, "minutes": rows}), 30)


@blueprint.get("/api/v1/stations/<station_id>/usual")
def usual(station_id: str) -> Response:
    """Every zone's usual density now and the density from which it reads "busier than usual".

    Both are ``null`` where the history is too short to say.
    """
    layout = _layout(station_id)
    now = current_app.extensions["crowdmap_clock"]()
    source = current_app.extensions["crowdmap_history"]
    zones = []
    for zone_id in _zone_ids(layout):
        usual_per_m2, weeks = usual_and_weeks(source, station_id, zone_id, now)
        zones.append(
            {
                "id": zone_id,
                "usual_density_per_m2": usual_per_m2,
                "busier_from_per_m2": busier_from(usual_per_m2),
                "usual_weeks": weeks,
            }
        )
    body = {"station": station_id, "timestamp": round(now, 3), "min_weeks": MIN_USUAL_WEEKS, "zones": zones}
    return _cached(jsonify(body), 60)


@blueprint.get("/api/v1/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return _cached(jsonify(openapi_document()), 3600)


@blueprint.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers, with the age of each station's latest frame."""
    now = current_app.extensions["crowdmap_clock"]()
    ages = {}
    for station_id in _hub().stations:
        latest = _hub().latest(station_id)
        ages[station_id] = None if latest is None else round(now - latest["timestamp"], 1)
    response = jsonify({"status": "ok", "frame_age_s": ages, "time": round(time.time(), 3)})
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics of this web process: all of them for staff, the public view for anyone else."""
    web_metrics = current_app.extensions["crowdmap_metrics"]
    staff = current_user.is_authenticated and current_user.can("staff")
    registry = web_metrics.registry if staff else web_metrics.public_registry
    response = make_response(generate_latest(registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.app_errorhandler(HTTPException)
def api_error(error: HTTPException) -> Response | HTTPException:
    """JSON errors under /api/ (the documented ``Error`` schema); the default pages elsewhere."""
    if not request.path.startswith("/api/"):
        return error
    response = jsonify({"error": error.description or error.name})
    response.status_code = error.code or 500
    return response
