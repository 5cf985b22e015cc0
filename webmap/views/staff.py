"""The staff dashboard, its JSON and CSV, and the operator page (login required; PRIVACY.md P5)."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, jsonify, make_response, render_template, request
from flask_login import current_user, login_required

from station import FRUIN_QUEUING_PER_M2, FRUIN_WALKWAY_PER_M2
from station.languages import choose_language
from webmap.history import (
    AGGREGATE_FIELDS,
    MIN_USUAL_WEEKS,
    busier_from,
    trend_row,
    usual_and_weeks,
    usual_density,
)
from webmap.hub import Hub
from webmap.i18n import LOS_MEANINGS, PUBLIC_LEVELS, TEXTS
from webmap.operator import camera_rows, floor_coverage

blueprint = Blueprint("staff", __name__)

MAX_EXPORT_DAYS = 31
HOUR_S = 3600
USUAL_STEP_S = 900


def _hub() -> Hub:
    return current_app.extensions["crowdmap_hub"]


def requires(role: str) -> Callable:
    """Login required (redirect to /login), then the role (403 for a logged-in user without it)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _los_rows(lang: str) -> list[dict[str, str]]:
    """Fruin's grades with their bounds and meanings, for the scales table."""

    def bound(table: tuple[float, ...], i: int) -> str:
        return f"≤ {table[i]:.2f}" if i < len(table) else f"> {table[-1]:.2f}"

    meanings = LOS_MEANINGS[lang]
    return [
        {
            "grade": grade,
            "walkway": bound(FRUIN_WALKWAY_PER_M2, i),
            "walkway_meaning": meanings["walkway"][i],
            "queuing": bound(FRUIN_QUEUING_PER_M2, i),
            "queuing_meaning": meanings["queuing"][i],
        }
        for i, grade in enumerate("ABCDEF")
    ]


def _page(template: str, **context: Any) -> Response:
    lang = choose_language(request)
    response = make_response(
        render_template(
            template,
            lang=lang,
            other_lang="en" if lang == "ja" else "ja",
            t=TEXTS[lang],
            stations=[s.layout for s in _hub().stations.values()],
            user=current_user,
            public_levels=PUBLIC_LEVELS[lang],
            los_rows=_los_rows(lang),
            **context,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/staff")
@requires("staff")
def dashboard() -> Response:
    """Per-zone density, LOS, trends, alerts and camera health of every station."""
    return _page("staff.html")


@blueprint.get("/operator")
@requires("operator")
def operator() -> Response:
    """The operator's home: cameras, their calibration errors and state, the layout check's result.

    And how to reach the calibration tool, which runs on the edge side, never here.
    """
    hub = _hub()
    checks = current_app.extensions["crowdmap_checks"]
    stations = []
    for sid, state in hub.stations.items():
        check = checks.get(sid)
        stations.append(
            {
                "layout": state.layout,
                "check": check,
                "cameras": camera_rows(state.layout, check, hub.camera_health(sid)),
                "coverage": [] if check is None else floor_coverage(state.layout, check),
                "checked_at": None
                if check is None
                else datetime.fromtimestamp(check.checked_at, ZoneInfo(state.layout.station.timezone)),
            }
        )
    settings = current_app.extensions["crowdmap_settings"]
    return _page("operator.html", operator_stations=stations, calibrator_url=settings.calibrator_url)


def _station(station_id: str) -> None:
    if station_id not in _hub().stations:
        abort(404, description=f"no station {station_id!r}")


@blueprint.get("/staff/api/stations/<station_id>")
@requires("staff")
def station_state(station_id: str) -> Response:
    """Everything the dashboard shows of one station, for its first paint (live updates come by Socket.IO)."""
    _station(station_id)
    hub = _hub()
    layout = hub.stations[station_id].layout
    now = current_app.extensions["crowdmap_clock"]()
    history = current_app.extensions["crowdmap_history"]
    zones = []
    for zone in layout.zones:
        usual_now, weeks = usual_and_weeks(history, station_id, zone.id, now)
        zones.append(
            {
                "id": zone.id,
                "floor": zone.floor,
                "name": {"ja": zone.name.ja, "en": zone.name.en},
                "kind": zone.kind,
                "los_bounds_per_m2": list(zone.los_bounds_per_m2),
                "public_bounds_per_m2": list(zone.public_bounds_per_m2),
                "usual_density_per_m2": usual_now,
                "busier_from_per_m2": busier_from(usual_now),
                "usual_weeks": weeks,
                # The usual day's line under the last hour's chart, every USUAL_STEP_S.
                "usual_last_hour": [
                    [t, usual_density(history, station_id, zone.id, t)]
                    for t in (now - HOUR_S + k * USUAL_STEP_S for k in range(HOUR_S // USUAL_STEP_S + 1))
                ]
                if weeks
                else [],
                "trend": hub.trend(station_id, zone.id),
            }
        )
    check = current_app.extensions["crowdmap_checks"].get(station_id)
    covers = {} if check is None else check.camera_zones
    cameras = [{**camera, "zones": list(covers.get(camera["camera"], ()))} for camera in hub.camera_health(station_id)]
    return jsonify(
        {
            "station": station_id,
            "now": now,
            "latest": hub.latest(station_id),
            "stale_after_s": layout.publishing.stale_after_s,
            "min_weeks": MIN_USUAL_WEEKS,
            "zones": zones,
            "alerts": hub.alerts(station_id),
            "cameras": cameras,
            "alert_level": hub.stations[station_id].alerts.alert_level,
        }
    )


@blueprint.get("/staff/api/stations/<station_id>/day")
@requires("staff")
def day_vs_usual(station_id: str) -> Response:
    """Today so far against the usual day, per zone and per hour (station-local days).

    ``today`` is the mean density of each past hour of today from the history store; ``usual``
    is the history store's usual density at the middle of each hour of the day. Both are
    ``null`` where unknown (no store, no data, or fewer past weeks than the hint needs).
    """
    _station(station_id)
    layout = _hub().stations[station_id].layout
    history = current_app.extensions["crowdmap_history"]
    now = current_app.extensions["crowdmap_clock"]()
    local = datetime.fromtimestamp(now, ZoneInfo(layout.station.timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    zones = []
    for zone in layout.zones:
        today: list[float | None] = [None] * 24
        usual: list[float | None] = [None] * 24
        if history is not None:
            sums = [0.0] * 24
            counts = [0] * 24
            for minute in history.series(station_id, zone.id, midnight, now):
                if minute.live_samples:
                    hour = int((minute.minute_s - midnight) // HOUR_S)
                    if 0 <= hour < 24:
                        sums[hour] += minute.density_mean_per_m2
                        counts[hour] += 1
            today = [round(sums[h] / counts[h], 3) if counts[h] else None for h in range(24)]
            usual = [usual_density(history, station_id, zone.id, midnight + (h + 0.5) * HOUR_S) for h in range(24)]
        zones.append({"id": zone.id, "today": today, "usual": usual})
    return jsonify({"station": station_id, "day_start": midnight, "zones": zones})


@blueprint.post("/staff/alerts/<station_id>/<alert_id>/ack")
@requires("staff")
def acknowledge(station_id: str, alert_id: str) -> Response:
    """Acknowledge an alert (form POST with a CSRF token; returns the alert as JSON)."""
    _station(station_id)
    try:
        alert = _hub().acknowledge(station_id, alert_id, current_user.id)
    except KeyError:
        abort(404, description=f"no alert {alert_id!r} in station {station_id!r}")
    return jsonify(alert)


def _day_bounds(day: str) -> tuple[float, float]:
    try:
        start = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        abort(400, description="day must be YYYY-MM-DD")
    return start, start + 86400


@blueprint.get("/staff/export.csv")
@requires("staff")
def export_csv() -> Response:
    """Per-zone, per-minute aggregates as CSV: ``?station=ID[&day=YYYY-MM-DD][&days=N]`` (UTC days).

    From the history store when there is one (its own CSV format), else the last hour this
    process saw. Aggregates only, never positions.
    """
    hub = _hub()
    station_id = request.args.get("station") or next(iter(hub.stations))
    _station(station_id)
    layout = hub.stations[station_id].layout
    history = current_app.extensions["crowdmap_history"]
    out = io.StringIO()
    if history is not None:
        now = current_app.extensions["crowdmap_clock"]()
        day = request.args.get("day") or datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
        try:
            days = int(request.args.get("days", "1"))
        except ValueError:
            abort(400, description="days must be an integer")
        if not 1 <= days <= MAX_EXPORT_DAYS:
            abort(400, description=f"days must lie in [1, {MAX_EXPORT_DAYS}]")
        start, _ = _day_bounds(day)
        history.export_csv(out, station_id, start, start + days * 86400)
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(AGGREGATE_FIELDS)
        rows: list[dict[str, Any]] = []
        for zone in layout.zones:
            rows += [trend_row(r, zone.id) for r in hub.trend(station_id, zone.id)]
        rows.sort(key=lambda r: (r["minute_start"], r["zone"]))
        for row in rows:
            writer.writerow([row[key] for key in AGGREGATE_FIELDS])
    response = make_response(out.getvalue())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{station_id}-aggregates.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
