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

from webmap.history import AGGREGATE_FIELDS, trend_row, usual_density
from webmap.hub import Hub
from webmap.i18n import TEXTS, choose_language

blueprint = Blueprint("staff", __name__)

MAX_EXPORT_DAYS = 31


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


def _page(template: str) -> Response:
    lang = choose_language(request)
    response = make_response(
        render_template(
            template,
            lang=lang,
            other_lang="en" if lang == "ja" else "ja",
            t=TEXTS[lang],
            stations=[s.layout for s in _hub().stations.values()],
            user=current_user,
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
    """The operator's page: camera health now; the calibration tool runs on the edge side."""
    return _page("operator.html")


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
        zones.append(
            {
                "id": zone.id,
                "floor": zone.floor,
                "name": {"ja": zone.name.ja, "en": zone.name.en},
                "kind": zone.kind,
                "los_bounds_per_m2": list(zone.los_bounds_per_m2),
                "usual_density_per_m2": usual_density(history, station_id, zone.id, now),
                "trend": hub.trend(station_id, zone.id),
            }
        )
    return jsonify(
        {
            "station": station_id,
            "latest": hub.latest(station_id),
            "stale_after_s": layout.publishing.stale_after_s,
            "zones": zones,
            "alerts": hub.alerts(station_id),
            "cameras": hub.camera_health(station_id),
            "alert_level": hub.stations[station_id].alerts.alert_level,
        }
    )


HOUR_S = 3600


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
