import re

import pytest

from station import NOTICE_TEXT_FIELDS


@pytest.mark.parametrize(
    ("query", "headers", "cookie", "lang"),
    [
        ("", {"Accept-Language": "en-GB,en;q=0.9"}, None, "en"),
        ("", {"Accept-Language": "ja,en;q=0.5"}, None, "ja"),
        ("", {"Accept-Language": "fr"}, None, "ja"),
        ("?lang=en", {"Accept-Language": "ja"}, None, "en"),
        ("", {"Accept-Language": "ja"}, "en", "en"),
        ("?lang=xx", {"Accept-Language": "en"}, None, "en"),
    ],
)
def test_language_choice(web, query, headers, cookie, lang):
    app, _, _ = web
    client = app.test_client()
    if cookie:
        client.set_cookie("crowdmap_lang", cookie)
    html = client.get(f"/{query}", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html


def test_switch_sets_the_language_cookie(web):
    app, _, _ = web
    response = app.test_client().get("/?lang=en")
    assert "crowdmap_lang=en" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("path", ["/", "/?station=pets2009", "/privacy", "/login"])
def test_every_public_page_links_the_notice_and_has_no_inline_script(web, path):
    app, _, _ = web
    html = app.test_client().get(path).get_data(as_text=True)
    assert 'href="/privacy' in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, f"inline script in {path}: {tag}"
    assert "<style" not in html and "style=" not in html
    assert "onclick" not in html.lower()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_privacy_notice_shows_every_field_of_every_station(web, demo_layout, pets_layout, lang):
    app, _, _ = web
    html = app.test_client().get(f"/privacy?lang={lang}").get_data(as_text=True)
    for layout in (demo_layout, pets_layout):
        for field in NOTICE_TEXT_FIELDS:
            text = getattr(getattr(layout.notice, field), lang)
            assert text.replace("'", "&#39;") in html, (layout.station.id, field)
        details = layout.notice.contact_details
        for way in (details.url, details.email, details.phone):
            if way is not None:
                assert f">{way}</a>" in html, (layout.station.id, way)


def test_simulated_station_is_labelled(web):
    app, _, _ = web
    client = app.test_client()
    assert 'id="simulation-label"' in client.get("/?station=demo-station").get_data(as_text=True)
    assert 'id="simulation-label"' not in client.get("/?station=pets2009").get_data(as_text=True)
    assert client.get("/?station=nowhere").status_code == 404


def test_map_page_has_tabs_for_each_floor_and_a_list_view(web, demo_layout):
    app, _, _ = web
    html = app.test_client().get("/?station=demo-station&lang=en").get_data(as_text=True)
    assert html.count('role="tab"') == len(demo_layout.floors)
    # A list per floor, inside the floor's tab panel: it follows the floor shown.
    for floor in demo_layout.floors:
        panel = html.split(f'id="panel-{floor.id}"')[1].split("</section>")[0]
        assert f'id="zones-{floor.id}"' in panel
    assert 'aria-live="polite"' in html and 'role="status"' in html
    assert "/static/vendor/socket.io.min.js" in html
