"""The calibration tool's application factory: ``create_app(settings, target=..., stills=...)``.

Every collaborator is passed in (the camera target, the still holder, the accounts, the audit
log, the clock), so tests and the ``crowdmap calibrate`` command build the same app from
different parts. Security follows the web tier's: argon2 accounts, a secure HTTP-only session
cookie, CSRF on every POST, a rate-limited login, a strict content security policy without
inline scripts, and no framing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, jsonify, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect

from calibrator import auth, views
from calibrator.audit import AuditLog
from calibrator.still import StillHolder
from calibrator.target import CameraTarget
from webmap.ratelimit import LoginRateLimiter
from webmap.security import install_security_headers
from webmap.settings import WebSettings
from webmap.users import UserStore

AUDIT_FILE = "calibration-audit.jsonl"
# Not the web tier's cookie name: both may run on one host, and cookies do not separate ports.
SESSION_COOKIE = "crowdmap_calibrator_session"


def create_app(
    settings: WebSettings,
    *,
    target: CameraTarget,
    stills: StillHolder,
    users: UserStore | None = None,
    audit: AuditLog | None = None,
    clock: Callable[[], float] = time.time,
) -> Flask:
    """Build the calibration tool for one camera.

    Args:
        settings: Web settings; used for the secret key, the cookie's ``Secure`` flag, the login
            rate limit and the data folder (accounts, audit log).
        target: The camera being calibrated.
        stills: Its still, grabbed in memory.
        users: Operator accounts; defaults to ``settings.users_db`` (shared with the web tier).
        audit: The audit log; defaults to ``<data_dir>/calibration-audit.jsonl``.
        clock: Wall clock, unix seconds.

    Returns:
        The Flask app.

    Raises:
        ValueError: if the still holder's resolution is not the camera's.
    """
    if stills.resolution_wh != tuple(target.camera.resolution_wh):
        raise ValueError(
            f"the still holder expects {stills.resolution_wh} but camera {target.camera_id!r} has "
            f"resolution_wh {target.camera.resolution_wh}"
        )
    settings = settings.with_secret()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=4 * 3600,
        WTF_CSRF_TIME_LIMIT=4 * 3600,
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    CSRFProtect(app)
    app.extensions.update(
        calibrator_target=target,
        calibrator_stills=stills,
        calibrator_users=users or UserStore(settings.users_db),
        calibrator_audit=audit or AuditLog(Path(settings.data_dir) / AUDIT_FILE),
        calibrator_limiter=LoginRateLimiter(settings.login_max_fails, settings.login_window_s),
        calibrator_clock=clock,
    )
    login_manager = LoginManager(app)
    auth.install_login(login_manager)
    app.register_blueprint(auth.blueprint)
    app.register_blueprint(views.blueprint)
    install_security_headers(app)

    @app.errorhandler(CSRFError)
    def _csrf_failed(error: CSRFError) -> Response | tuple[str, int]:
        if request.path.startswith("/api/"):
            response = jsonify(error=f"CSRF check failed: {error.description}")
            response.status_code = 400
            return response
        return f"CSRF check failed: {error.description}", 400

    return app
