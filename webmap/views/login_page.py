"""The web tier's login page: the shared login (:mod:`accounts.login`) in Japanese and English."""

from __future__ import annotations

from flask import render_template, request

from accounts.login import LoginForm
from station.languages import choose_language
from webmap.i18n import TEXTS

# What the page says after each outcome of an attempt (a role mismatch reads as a wrong password).
_MESSAGES = {"invalid": "login_failed", "bad": "login_failed", "limited": "login_limited"}


def render_login(form: LoginForm, outcome: str | None, retry_after_s: int | None) -> str:
    """The login page with the message for ``outcome`` (``None``: the empty form)."""
    lang = choose_language(request)
    error = None if outcome is None or outcome not in _MESSAGES else TEXTS[lang][_MESSAGES[outcome]]
    return render_template(
        "login.html", form=form, error=error, lang=lang, other_lang="en" if lang == "ja" else "ja", t=TEXTS[lang]
    )
