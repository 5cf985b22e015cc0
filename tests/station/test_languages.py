"""Which language a request gets, the same way in both web apps."""

import pytest
from flask import Flask, request

from station.languages import LANG_COOKIE, LANGUAGES, choose_language, other_language


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("?lang=en", "ja", "ja", "en"),  # the query wins over everything
        ("?lang=ja", "en", "en", "ja"),
        ("?lang=fr", "en", "ja", "en"),  # an unknown asked language falls through to the cookie
        ("", "en", "ja", "en"),  # the cookie wins over the browser
        ("", "de", "en-GB,en;q=0.9", "en"),  # an unknown cookie falls through to the browser
        ("", None, "fr, en;q=0.5, ja;q=0.8", "ja"),  # the browser's best of the two
        ("", None, "fr, de", "ja"),  # neither: Japanese
        ("", None, None, "ja"),
    ],
)
def test_query_then_cookie_then_browser_then_japanese(query, cookie, accept, expected) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    if cookie is not None:
        headers["Cookie"] = f"{LANG_COOKIE}={cookie}"
    with Flask(__name__).test_request_context("/" + query, headers=headers):
        assert choose_language(request) == expected


def test_the_switch_offers_the_other_language() -> None:
    assert [other_language(lang) for lang in LANGUAGES] == ["en", "ja"]
