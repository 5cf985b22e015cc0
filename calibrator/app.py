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

from flask import Flask, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from accounts.login import LoginForm, LoginPolicy
from accounts.login import install as install_accounts
from accounts.security import install_proxy_fix
from accounts.settings import AccountSettings
from accounts.users import UserStore
from calibrator import views
from calibrator.audit import AuditLog
from calibrator.i18n import TEXTS
from calibrator.still import StillHolder
from calibrator.target import CameraTarget
from station.languages import LANG_COOKIE, LANGUAGES, choose_language, other_language

AUDIT_FILE = "calibration-audit.jsonl"
# Not the web tier's cookie names: both may run on one host, and cookies do not separate ports.
SESSION_COOKIE = "crowdmap_calibrator_session"
DEVICE_COOKIE = "crowdmap_calibrator_device"
SESSION_LIFETIME_S = 4 * 3600
OPERATOR_ROLE = "operator"
_MESSAGES = {"invalid": "login_invalid", "bad": "login_bad", "limited": "login_limited"}


def render_login(form: LoginForm, outcome: str | None, retry_after_s: int | None) -> str:
    """The tool's login page with the message for ``outcome`` (``None``: the empty form), in the page's language."""
    texts = TEXTS[choose_language(request)]
    message = None if outcome not in _MESSAGES else texts[_MESSAGES[outcome]].format(retry_after_s=retry_after_s)
    return render_template("login.html", form=form, message=message)


def unauthorized() -> ResponseReturnValue:
    """Not logged in: JSON 401 for the API, the still and the plan drawing; a redirect to the login page otherwise."""
    if request.path.startswith(("/api/", "/still", "/plan-image")):
        response = jsonify(error="log in as an operator first")
        response.status_code = 401
        return response
    return redirect(url_for("auth.login"))


def create_app(
    settings: AccountSettings,
    *,
    target: CameraTarget,
    stills: StillHolder,
    users: UserStore | None = None,
    audit: AuditLog | None = None,
    clock: Callable[[], float] = time.time,
) -> Flask:
    """Build the calibration tool for one camera.

    Args:
        settings: Account settings: the secret key, the cookies' ``Secure`` flag, the login rate
            limit, trusted proxies and the data folder (accounts, audit log).
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
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024)
    app.extensions.update(
        calibrator_target=target,
        calibrator_stills=stills,
        calibrator_audit=audit or AuditLog(Path(settings.data_dir) / AUDIT_FILE),
        calibrator_clock=clock,
    )
    install_accounts(
        app,
        settings,
        policy=LoginPolicy(
            role=OPERATOR_ROLE,
            landing_endpoint="tool.index",
            logout_endpoint="auth.login",
            render=render_login,
            device_cookie=DEVICE_COOKIE,
        ),
        users=users or UserStore(settings.users_db),
        session_cookie=SESSION_COOKIE,
        same_site="Strict",
        lifetime_s=SESSION_LIFETIME_S,
        redis_client=None,  # one process on the edge box: its sessions live in its memory
        unauthorized=unauthorized,
    )
    app.register_blueprint(views.blueprint)
    install_proxy_fix(app, settings.proxy_hops)

    @app.context_processor
    def _language() -> dict[str, object]:
        lang = choose_language(request)
        return {"lang": lang, "other_lang": other_language(lang), "t": TEXTS[lang]}

    @app.after_request
    def _remember_language(response: Response) -> Response:
        if request.args.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, request.args["lang"], max_age=365 * 86400, samesite="Strict")
        return response

    @app.errorhandler(CSRFError)
    def _csrf_failed(error: CSRFError) -> Response | tuple[str, int]:
        if request.path.startswith("/api/"):
            response = jsonify(error=f"CSRF check failed: {error.description}")
            response.status_code = 400
            return response
        return f"CSRF check failed: {error.description}", 400

    return app
