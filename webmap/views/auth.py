"""Login and logout for staff and operators (PRIVACY.md P5: hashed passwords, CSRF, rate limiting)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import UserMixin, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webmap.i18n import TEXTS, choose_language
from webmap.users import User

blueprint = Blueprint("auth", __name__)


class LoginUser(UserMixin):
    """A :class:`webmap.users.User` as Flask-Login sees it."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = user.name
        self.role = user.role

    def can(self, role: str) -> bool:
        """Whether the user may use pages meant for ``role``."""
        return self.user.can(role)


def load_user(name: str) -> LoginUser | None:
    """Flask-Login's user loader: a deleted account ends its sessions at the next request."""
    user = current_app.extensions["crowdmap_users"].get(name)
    return None if user is None else LoginUser(user)


class LoginForm(FlaskForm):
    """Name and password, with Flask-WTF's CSRF token."""

    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an absolute URL in ?next= would make the login page an open redirect.
    if not target:
        return url_for("staff.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("staff.dashboard")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Show the form; on POST check the rate limit, then the password."""
    lang = choose_language(request)
    form = LoginForm()
    error = None
    status = 200
    if request.method == "POST":
        limiter = current_app.extensions["crowdmap_limiter"]
        metrics = current_app.extensions["crowdmap_metrics"]
        address = f"addr:{request.remote_addr}"
        name_key = f"user:{(form.username.data or '').lower()}"
        wait_s = limiter.retry_after_s(address, name_key)
        if wait_s > 0:
            metrics.logins.labels(outcome="limited").inc()
            error, status = TEXTS[lang]["login_limited"], 429
        elif form.validate_on_submit():
            user = current_app.extensions["crowdmap_users"].authenticate(form.username.data, form.password.data)
            if user is not None:
                limiter.reset(name_key)
                metrics.logins.labels(outcome="ok").inc()
                session.clear()  # a fresh session: no fixation across the login
                login_user(LoginUser(user))
                return redirect(_safe_next(request.args.get("next")))
            limiter.record_failure(address, name_key)
            metrics.logins.labels(outcome="bad").inc()
            error, status = TEXTS[lang]["login_failed"], 401
        else:
            error, status = TEXTS[lang]["login_failed"], 400
    response = make_response(
        render_template(
            "login.html", form=form, error=error, lang=lang, other_lang="en" if lang == "ja" else "ja", t=TEXTS[lang]
        ),
        status,
    )
    if status == 429:
        response.headers["Retry-After"] = str(int(wait_s) + 1)
    return response


@blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    """End the session (a POST with a CSRF token, so no other site can log staff out)."""
    logout_user()
    session.clear()
    return redirect(url_for("public.map_page"))
