"""Operator login for the calibration tool: argon2-checked accounts, rate-limited, CSRF-protected.

Accounts are the web tier's (:class:`webmap.users.UserStore`); only the ``operator`` role may
use the tool. The session is re-checked against the store on every request, so removing an
account or its role ends its access at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webmap.ratelimit import LoginRateLimiter
from webmap.users import UserStore

logger = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)
OPERATOR_ROLE = "operator"


@dataclass(frozen=True)
class Operator(UserMixin):
    """A logged-in operator, as Flask-Login sees it.

    Attributes:
        name: Login name.
    """

    name: str

    def get_id(self) -> str:
        """The session key: the login name."""
        return self.name


class LoginForm(FlaskForm):
    """Name and password; Flask-WTF adds and checks the CSRF token."""

    name = StringField("Name", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _users() -> UserStore:
    return current_app.extensions["calibrator_users"]


def _limiter() -> LoginRateLimiter:
    return current_app.extensions["calibrator_limiter"]


def load_operator(name: str) -> Operator | None:
    """Flask-Login's user loader: the operator if the account still exists with that role."""
    user = _users().get(name)
    return Operator(user.name) if user is not None and user.role == OPERATOR_ROLE else None


def unauthorized() -> BaseResponse:
    """Not logged in: JSON 401 for the API and the still, a redirect to the login page otherwise."""
    if request.path.startswith("/api/") or request.path.startswith("/still"):
        response = jsonify(error="log in as an operator first")
        response.status_code = 401
        return response
    return redirect(url_for("auth.login"))


def install_login(app_login: LoginManager) -> None:
    """Wire the loader and the unauthorized handler into ``app_login``."""
    app_login.user_loader(load_operator)
    app_login.unauthorized_handler(unauthorized)
    # "strong": a session cookie replayed from another address or browser is dropped.
    app_login.session_protection = "strong"


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | BaseResponse | tuple[str, int] | str:
    """Show the login form; on POST check the password and the role."""
    form = LoginForm()
    if request.method == "GET":
        return render_template("login.html", form=form, message=None)
    if not form.validate_on_submit():
        # The CSRF check is part of validation: a forged or stale form never reaches the password check.
        return render_template("login.html", form=form, message="Enter a name and a password."), 400
    name = form.name.data.strip()
    keys = (f"address:{request.remote_addr}", f"user:{name}")
    limiter = _limiter()
    wait_s = limiter.retry_after_s(*keys)
    if wait_s > 0:
        message = f"Too many failed logins. Try again in {int(wait_s) + 1} s."
        response = current_app.make_response((render_template("login.html", form=form, message=message), 429))
        response.headers["Retry-After"] = str(int(wait_s) + 1)
        return response
    user = _users().authenticate(name, form.password.data)
    if user is None or user.role != OPERATOR_ROLE:
        limiter.record_failure(*keys)
        # Names only, never passwords; a role mismatch reads the same as a wrong password.
        logger.warning("calibration tool: failed login for %r from %s", name, request.remote_addr)
        return render_template("login.html", form=form, message="Wrong name or password, or not an operator."), 401
    limiter.reset(*keys)
    session.clear()  # no session fixation: a fresh session for the logged-in operator
    login_user(Operator(user.name))
    logger.info("calibration tool: operator %r logged in from %s", user.name, request.remote_addr)
    return redirect(url_for("tool.index"))


@blueprint.route("/logout", methods=["POST"])
def logout() -> BaseResponse:
    """Log out (POST with the CSRF token, so another site cannot log the operator out)."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
