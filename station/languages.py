"""The two languages of every text crowdmap shows, and which one a visitor's request gets.

Every text of a layout is written in both (``station.Text``), and so are the web apps' own texts.
Both web apps (``webmap`` and ``calibrator``) choose one per request the same way: ``?lang=``, else
the ``crowdmap_lang`` cookie (set by their language switch), else the browser's Accept-Language,
else Japanese. The request is read through the few attributes Flask's ``Request`` has, so the
station model itself stays web-free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
LANG_COOKIE = "crowdmap_lang"


class AcceptLanguages(Protocol):
    """The browser's Accept-Language header (werkzeug's ``LanguageAccept``)."""

    def best_match(self, matches: Sequence[str]) -> str | None: ...


class LanguageRequest(Protocol):
    """What :func:`choose_language` reads of a request (a Flask ``Request`` has all of it)."""

    @property
    def args(self) -> Mapping[str, str]: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...

    @property
    def accept_languages(self) -> AcceptLanguages: ...


def choose_language(request: LanguageRequest) -> str:
    """``?lang=``, else the language cookie, else the browser's Accept-Language, else Japanese."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def other_language(lang: str) -> str:
    """The language the switch on a page in ``lang`` offers."""
    return "en" if lang == "ja" else "ja"
