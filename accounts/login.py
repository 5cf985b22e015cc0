"""The one login of both web apps: ``/login`` and ``POST /logout``, sessions and who may enter.

:func:`install` wires an app: cookie and CSRF settings, Flask-Login with a user loader that
accepts a session only while its server-side record lives (:mod:`accounts.sessions`) and its
account's session epoch is unchanged (:mod:`accounts.users`), the rate-limited login blueprint,
and the security headers. Each app keeps its own look through a :class:`LoginPolicy`: the role
it requires, where a login lands, and how the login page is rendered.

A login (PRIVACY.md P5):

1. The form's CSRF token is checked (Flask-WTF); a forged or stale form goes no further.
2. The rate limiter (:mod:`accounts.ratelimit`) may refuse it for a while (429, ``Retry-After``),
   even with the right password.
3. The password is checked (argon2, off the event loop) and the account must have the role.
4. The old session is cleared (no fixation), a server-side session record is created, and a
   signed trusted-device cookie remembers that this browser logged in as this user.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, current_app, make_response, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, UserMixin, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from accounts.ratelimit import Attempt, LoginRateLimiter, RedisWindows
from accounts.security import install_security_headers
from accounts.sessions import MemorySessions, RedisSessions, SessionStore
from accounts.settings import AccountSettings
from accounts.users import MAX_PASSWORD_CHARS, User, UserStore

logger = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)

EXTENSION = "crowdmap_accounts"
TOKEN_KEY = "_crowdmap_session"
EPOCH_KEY = "_crowdmap_epoch"
DEVICE_SALT = "crowdmap-trusted-device"
DEVICE_MAX_AGE_S = 90 * 86400
# What a login page may say: the outcome of the attempt, rendered by the app in its language.
OUTCOMES = ("invalid", "limited", "bad", "ok")


class LoginUser(UserMixin):
    """A logged-in account as Flask-Login sees it.

    Attributes:
        user: The account.
        id: Flask-Login's key of the session: the login name.
        name: The login name.
        role: The account's role (pages show it).
    """

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = user.name
        self.name = user.name
        self.role = user.role

    def can(self, role: str) -> bool:
        """Whether the user may use pages meant for ``role``."""
        return self.user.can(role)


class LoginForm(FlaskForm):
    """Name and password, with Flask-WTF's CSRF token."""

    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=MAX_PASSWORD_CHARS)])


def _ignore(_: str) -> None:
    return None


@dataclass(frozen=True)
class LoginPolicy:
    """What differs between the apps that share this login.

    Attributes:
        role: The role a user needs to log in (``staff`` admits operators too).
        landing_endpoint: Where a login without a ``next`` goes.
        logout_endpoint: Where a logout goes.
        render: ``render(form, outcome, retry_after_s) -> html`` of the login page; ``outcome``
            is ``None`` for the empty form, else one of :data:`OUTCOMES`; ``retry_after_s`` is
            given for ``limited`` only.
        device_cookie: Name of the trusted-device cookie (one per app: cookies ignore ports).
        on_outcome: Called with each attempt's outcome (metrics).
    """

    role: str
    landing_endpoint: str
    logout_endpoint: str
    render: Callable[[LoginForm, str | None, int | None], str]
    device_cookie: str
    on_outcome: Callable[[str], None] = _ignore


@dataclass
class Accounts:
    """The account machinery of one app (``app.extensions["crowdmap_accounts"]``).

    Attributes:
        users: The accounts.
        sessions: Live sessions.
        limiter: The login rate limiter.
        policy: The app's login policy.
        lifetime_s: How long a session lives without a new login.
        session_ended: Listeners told the token of every session ended by logout (to close its sockets).
    """

    users: UserStore
    sessions: SessionStore
    limiter: LoginRateLimiter
    policy: LoginPolicy
    lifetime_s: float
    session_ended: list[Callable[[str], None]] = field(default_factory=list)

    def load(self, name: str, token: Any, epoch: Any) -> LoginUser | None:
        """The logged-in user of a session, or ``None`` if the session is no longer valid.

        Valid means: the token's record lives and names this user, the account exists with the
        policy's role, and its session epoch is the one the session started under.
        """
        user = self.users.get(name)
        if user is None or epoch != user.session_epoch or not user.can(self.policy.role):
            return None
        # A session from before server-side records (no token) is not valid either.
        if not isinstance(token, str) or self.sessions.user_of(token) != user.name:
            return None
        return LoginUser(user)


def accounts_of(app: Flask) -> Accounts:
    """The :class:`Accounts` installed in ``app``."""
    return app.extensions[EXTENSION]


def _accounts() -> Accounts:
    return accounts_of(current_app)


def safe_next(target: str | None, default: str) -> str:
    r"""``target`` if it is a plain path on this site, else ``default``.

    Refused: anything but a path (an absolute URL would make the login an open redirect), a
    scheme-relative ``//host``, backslashes (browsers read ``/\host`` as ``//host``) and control
    characters (CR/LF would split the header).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    return target


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT)


def trusted_device(cookie: str | None, name: str) -> str | None:
    """The device id in a valid trusted-device cookie of ``name``, else ``None``."""
    if not cookie:
        return None
    try:
        data = _device_serializer().loads(cookie, max_age=DEVICE_MAX_AGE_S)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != name or not isinstance(data.get("d"), str):
        return None
    return data["d"]


def _device_cookie_value(name: str, device: str | None) -> str:
    return _device_serializer().dumps({"u": name, "d": device or secrets.token_urlsafe()})


def _page(form: LoginForm, outcome: str | None, status: int, retry_after_s: int | None = None) -> ResponseReturnValue:
    response = make_response(_accounts().policy.render(form, outcome, retry_after_s), status)
    response.retry_after = retry_after_s  # the Retry-After header on a 429; None sets none
    return response


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the form; on POST check the CSRF token, the rate limit, then the password."""
    accounts = _accounts()
    policy = accounts.policy
    form = LoginForm()
    if request.method == "GET":
        return _page(form, None, 200)
    if not form.validate_on_submit():
        # The CSRF check is part of validation: a forged or stale form never reaches the password check.
        policy.on_outcome("invalid")
        return _page(form, "invalid", 400)
    name = form.username.data.strip()
    attempt = Attempt(
        address=request.remote_addr or "",
        name=name,
        device=trusted_device(request.cookies.get(policy.device_cookie), name),
    )
    wait_s = accounts.limiter.retry_after_s(attempt)
    if wait_s > 0:
        policy.on_outcome("limited")
        logger.warning("login refused for a while: too many failures (%s from %s)", name, attempt.address)
        return _page(form, "limited", 429, int(wait_s) + 1)
    user = accounts.users.authenticate(name, form.password.data)
    if user is None or not user.can(policy.role):
        # A role mismatch reads the same as a wrong password. Names only, never passwords.
        accounts.limiter.record_failure(attempt)
        policy.on_outcome("bad")
        logger.warning("failed login for %r from %s", name, attempt.address)
        return _page(form, "bad", 401)
    accounts.limiter.record_success(attempt)
    session.clear()  # a fresh session: nothing of the anonymous one survives the login (no fixation)
    token = accounts.sessions.create(user.name, accounts.lifetime_s)
    session[TOKEN_KEY] = token
    session[EPOCH_KEY] = user.session_epoch
    login_user(LoginUser(user))
    policy.on_outcome("ok")
    logger.info("%s %r logged in from %s", user.role, user.name, attempt.address)
    response = redirect(safe_next(request.args.get("next"), url_for(policy.landing_endpoint)))
    response.set_cookie(
        policy.device_cookie,
        _device_cookie_value(user.name, attempt.device),
        max_age=DEVICE_MAX_AGE_S,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Strict",
    )
    return response


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session here and everywhere (a POST with a CSRF token: no other site can log staff out)."""
    accounts = _accounts()
    token = session.get(TOKEN_KEY)
    if isinstance(token, str):
        accounts.sessions.end(token)
        for listener in accounts.session_ended:
            listener(token)
    logout_user()
    session.clear()
    return redirect(url_for(accounts.policy.logout_endpoint))


def install(
    app: Flask,
    settings: AccountSettings,
    *,
    policy: LoginPolicy,
    users: UserStore,
    session_cookie: str,
    same_site: str,
    lifetime_s: int,
    redis_client: Any = None,
    unauthorized: Callable[[], ResponseReturnValue] | None = None,
) -> Accounts:
    """Give ``app`` the shared login, sessions, CSRF protection and security headers.

    Args:
        app: The Flask app.
        settings: Account settings with a secret key (:meth:`AccountSettings.with_secret`).
        policy: What this app requires and how it looks.
        users: The accounts.
        session_cookie: The session cookie's name (one per app: cookies do not separate ports).
        same_site: The session cookie's ``SameSite``.
        lifetime_s: Session and CSRF token lifetime, seconds.
        redis_client: Keeps sessions and login failures where every process of the app sees
            them; ``None`` keeps them in this process.
        unauthorized: Answer for a request that needs a login (default: redirect to the login
            page with ``next``).

    Returns:
        The installed :class:`Accounts`.

    Raises:
        ValueError: if ``settings`` has no secret key.
    """
    if settings.secret_key is None:
        raise ValueError("install needs settings with a secret key: call settings.with_secret() first")
    # The session cookie is HttpOnly by Flask's default; no "remember me" cookie is ever set. The
    # session's lifetime is its server-side record's (the cookie itself ends with the browser).
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME=session_cookie,
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_SAMESITE=same_site,
        WTF_CSRF_TIME_LIMIT=lifetime_s,
    )
    CSRFProtect(app)
    sessions: SessionStore = MemorySessions() if redis_client is None else RedisSessions(redis_client)
    limiter = LoginRateLimiter(
        settings.login_max_fails,
        settings.login_window_s,
        user_max_fails=settings.login_user_max_fails,
        windows=None if redis_client is None else RedisWindows(redis_client),
    )
    accounts = Accounts(users=users, sessions=sessions, limiter=limiter, policy=policy, lifetime_s=lifetime_s)
    app.extensions[EXTENSION] = accounts

    manager = LoginManager(app)
    manager.login_view = "auth.login"
    # "strong": a session cookie replayed from another address or browser is dropped.
    manager.session_protection = "strong"

    @manager.user_loader
    def _load(name: str) -> LoginUser | None:
        return accounts.load(name, session.get(TOKEN_KEY), session.get(EPOCH_KEY))

    if unauthorized is not None:
        manager.unauthorized_handler(unauthorized)
    app.register_blueprint(blueprint)
    install_security_headers(app)
    return accounts
