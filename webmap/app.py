"""The web application factory: ``create_app(settings, layouts=...) -> (app, socketio)``.

One module-level :data:`socketio` is bound to each app by ``init_app`` (Flask-SocketIO's app
factory pattern); every collaborator (layouts, user store, latest-frame store, history) is
injected, so tests and the runtime compose the same app differently.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import redis
from flask import Flask, Response, request
from flask_socketio import SocketIO

from accounts.login import LoginPolicy
from accounts.login import install as install_accounts
from accounts.security import install_proxy_fix
from accounts.users import UserStore
from bus.redis_link import socketio_channel
from station import NOTICE_TEXT_FIELDS, StationLayout
from webmap import internals
from webmap.acks import RedisAckStore
from webmap.alert_store import RedisAlertStore, SqliteAlertStore
from webmap.backpressure import BoundedManager, BoundedRedisManager
from webmap.checks import StationCheck, checks_by_station
from webmap.emit_guard import EmitGuard
from webmap.history import HistorySource
from webmap.hub import OPERATOR_NAMESPACE, PUBLIC_NAMESPACE, STAFF_NAMESPACE, Hub
from webmap.metrics import WebMetrics
from webmap.namespaces import OperatorNamespace, PublicNamespace, StaffNamespace
from webmap.packet_guard import install_packet_guard
from webmap.plan import plan_document
from webmap.settings import WebSettings
from webmap.store import LatestFrameStore, MemoryLatestStore, RedisLatestStore
from webmap.views import public, staff
from webmap.views.login_page import render_login

logger = logging.getLogger(__name__)
ALERTS_FILE = "alerts.sqlite3"

# Flask-SocketIO's documented factory pattern: one object, bound to each app by init_app.
socketio = SocketIO()
SESSION_COOKIE = "crowdmap_session"
DEVICE_COOKIE = "crowdmap_device"
SESSION_LIFETIME_S = 12 * 3600
# Read-only, unauthenticated endpoints that any site may fetch (PRIVACY.md P5: public pages are read-only).
PUBLIC_API_PREFIX = "/api/v1/"


class NoticeError(ValueError):
    """A station's public notice (PRIVACY.md P4) is incomplete, so it must not be published."""


def check_notice(layout: StationLayout) -> None:
    """Refuse a station whose notice has an empty field in either language.

    The layout schema already requires every field; this second check guards layouts built in
    code and keeps the rule visible where the public pages are made.

    Raises:
        NoticeError: naming the station and the empty fields.
    """
    empty = []
    for field in NOTICE_TEXT_FIELDS:
        text = getattr(layout.notice, field, None)
        for lang in ("ja", "en"):
            if text is None or not str(getattr(text, lang, "") or "").strip():
                empty.append(f"notice.{field}.{lang}")
    details = getattr(layout.notice, "contact_details", None)
    if details is None or not any((details.url, details.email, details.phone)):
        empty.append("notice.contact_details")
    if empty:
        raise NoticeError(f"station {layout.station.id!r} cannot start: empty notice fields {empty} (PRIVACY.md P4)")
    check_retention_text(layout)


# A number of days in the notice: "90 days", "90-day", "90日間".
_DAYS = {"en": re.compile(r"(?<![\d.])(\d+)(?:\s*|-)days?\b", re.IGNORECASE), "ja": re.compile(r"(?<![\d.])(\d+)\s*日")}


def check_retention_text(layout: StationLayout) -> None:
    """Refuse a notice whose retention text does not say what the station keeps.

    Each language of ``notice.retention`` must give ``publishing.history_retention_days`` as a
    number of days, and no other number of days (PRIVACY.md P3, P4): the public must not read
    90 days where a purge keeps 365.

    Raises:
        NoticeError: naming the station, the language and what the text says.
    """
    days = layout.publishing.history_retention_days
    for lang, pattern in _DAYS.items():
        text = getattr(layout.notice.retention, lang)
        stated = sorted({int(number) for number in pattern.findall(text)})
        if stated != [days]:
            raise NoticeError(
                f"station {layout.station.id!r} cannot start: notice.retention.{lang} states "
                f"{stated or 'no'} day(s) but publishing.history_retention_days is {days} (PRIVACY.md P3, P4)"
            )


def create_app(
    settings: WebSettings,
    *,
    layouts: Sequence[StationLayout],
    users: UserStore | None = None,
    store: LatestFrameStore | None = None,
    history: HistorySource | None = None,
    metrics: WebMetrics | None = None,
    clock: Callable[[], float] = time.time,
    checks: Sequence[StationCheck] | None = None,
) -> tuple[Flask, SocketIO]:
    """Build the web application for the given stations.

    Args:
        settings: Web settings (see :mod:`webmap.settings`); a secret is generated and kept in
            ``settings.data_dir`` when none is given.
        layouts: The stations served; the first is the default of the public map.
        users: Staff and operator accounts; defaults to ``settings.users_db``.
        store: Latest public payload per station; defaults to Redis when
            ``settings.message_queue`` is set, else memory.
        history: Per-zone aggregates for trends, the usual day and CSV export; optional.
        metrics: Prometheus metrics; a fresh registry by default.
        clock: Wall clock, unix seconds.
        checks: Each station's camera check (``crowdmap.station_check``, fitted outside this
            process): the operator page's calibration errors and the map's uncovered floor.
            Optional; without one the map draws no "not covered" area.

    Returns:
        ``(app, socketio)``. The hub that receives bus messages is ``app.extensions["crowdmap_hub"]``.

    Raises:
        NoticeError: if a station's public notice is incomplete.
        ValueError: if no station is given or one is given twice.
    """
    if not layouts:
        raise ValueError("create_app needs at least one station layout, got none")
    for layout in layouts:
        check_notice(layout)
    station_checks = checks_by_station(checks)
    unknown = sorted(set(station_checks) - {layout.station.id for layout in layouts})
    if unknown:
        raise ValueError(f"checks given for stations that are not served: {unknown}")
    settings = settings.with_secret()
    metrics = metrics or WebMetrics()
    users = users or UserStore(settings.users_db)
    # One client for the state web processes share (latest frame, alert acknowledgements).
    shared = redis.Redis.from_url(settings.message_queue) if settings.message_queue else None
    if store is None:
        store = MemoryLatestStore() if shared is None else RedisLatestStore(shared)

    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented key order of the payload
    accounts = install_accounts(
        app,
        settings.accounts,
        policy=LoginPolicy(
            role="staff",
            landing_endpoint="staff.dashboard",
            logout_endpoint="public.map_page",
            render=render_login,
            device_cookie=DEVICE_COOKIE,
            on_outcome=lambda outcome: metrics.logins.labels(outcome=outcome).inc(),
        ),
        users=users,
        session_cookie=SESSION_COOKIE,
        same_site="Lax",
        lifetime_s=SESSION_LIFETIME_S,
        redis_client=shared,
    )

    def on_drop() -> None:
        metrics.frames_dropped.inc()

    guard = EmitGuard(lambda namespace, reason: metrics.emits_refused.labels(namespace=namespace, reason=reason).inc())
    # The private library parts (webmap.internals) only where asked for and where their contracts hold.
    private = settings.private_library_access and internals.usable()

    if settings.message_queue:
        # One channel per deployment, database and station set: pub/sub ignores database numbers.
        manager: BoundedManager = BoundedRedisManager(
            settings.message_queue,
            channel=socketio_channel(
                settings.message_queue, [layout.station.id for layout in layouts], settings.deployment
            ),
            max_backlog=settings.max_backlog,
            on_drop=on_drop,
            direct_writes=settings.direct_writes,
            guard=guard.allows,
            private=private,
        )
    else:
        manager = BoundedManager(
            max_backlog=settings.max_backlog,
            on_drop=on_drop,
            direct_writes=settings.direct_writes,
            guard=guard.allows,
            private=private,
        )
    # client_manager is always passed: the module-level socketio keeps options between init_app
    # calls, and a manager left over from a previous app must never serve this one.
    socketio.init_app(app, async_mode=settings.async_mode, client_manager=manager, manage_session=True)
    server = socketio.server

    acks = None if shared is None else RedisAckStore(shared)
    # Every web process derives the same jitter secret from the shared secret key.
    jitter_secret = hashlib.blake2b(str(settings.secret_key).encode("utf-8"), person=b"crowdmap-jitter").digest()
    # Alerts outlive the process: in Redis beside the acknowledgements, else in the data folder.
    alert_store = (
        RedisAlertStore(shared) if shared is not None else SqliteAlertStore(Path(settings.data_dir) / ALERTS_FILE)
    )
    hub = Hub(
        layouts,
        store,
        server,
        metrics,
        alert_level=settings.alert_level,
        clock=clock,
        acks=acks,
        jitter_secret=jitter_secret,
        alert_store=alert_store,
        camera_zones={sid: check.camera_zones for sid, check in station_checks.items()},
    )
    app.extensions.update(
        crowdmap_hub=hub,
        crowdmap_settings=settings,
        crowdmap_metrics=metrics,
        crowdmap_history=history,
        crowdmap_clock=clock,
        crowdmap_checks=station_checks,
        # Built once: the plan never changes while the process runs (label anchors, uncovered floor).
        crowdmap_plans={
            layout.station.id: plan_document(layout, station_checks.get(layout.station.id)) for layout in layouts
        },
    )
    app.register_blueprint(public.blueprint)
    app.register_blueprint(staff.blueprint)

    @app.after_request
    def _cors(response: Response) -> Response:
        if request.path.startswith(PUBLIC_API_PREFIX) and request.method in ("GET", "HEAD", "OPTIONS"):
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "86400"
        return response

    # After init_app the server exists, so on_namespace registers on this app's server only
    # (before it, Flask-SocketIO would remember the handlers for every later app).
    for namespace in (
        PublicNamespace(PUBLIC_NAMESPACE, hub, metrics),
        StaffNamespace(STAFF_NAMESPACE, hub, metrics, accounts),
        OperatorNamespace(OPERATOR_NAMESPACE, hub, metrics, accounts),
    ):
        socketio.on_namespace(namespace)

    @socketio.on_error_default
    def _log_socket_error(error: Exception) -> None:
        logger.warning("Socket.IO handler error, event dropped: %s", error)

    install_packet_guard(app, server, metrics, private=private)
    # Last: the outermost layer, so that pages and websockets see the same client address.
    install_proxy_fix(app, settings.proxy_hops)
    return app, socketio


def hub_of(app: Flask) -> Hub:
    """The hub of an app made by :func:`create_app` (where the runtime delivers bus messages)."""
    return app.extensions["crowdmap_hub"]


def serve(app: Flask, sio: SocketIO, host: str = "127.0.0.1", port: int = 8000, **kwargs: Any) -> None:
    """Serve until interrupted, with the async mode the app was built with.

    Under gevent this is gevent's WSGI server with gevent-websocket; call
    ``gevent.monkey.patch_all()`` at the very start of the web process so that the standard
    library (sockets, ``time.sleep``, threading) cooperates with it.
    """
    logger.info("web server on http://%s:%d/ (%s)", host, port, sio.async_mode)
    sio.run(app, host=host, port=port, allow_unsafe_werkzeug=sio.async_mode == "threading", **kwargs)
