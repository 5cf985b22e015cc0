"""The pages as a person sees them: Debian's Chromium, headless, against a real gevent server.

Frames are injected on the server's standard input as raw bus messages (what the runtime's bus
delivers); screenshots go to test-artifacts/ (git ignores it).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from iconizer.types import CameraStatus
from tests.webmap.pages import shot, watched_page

pytestmark = pytest.mark.browser

STAFF_PASSWORD = "browser staff pw"
WAIT_MS = 15_000


@pytest.fixture
def data_dir(browser_data_dir) -> Path:
    return browser_data_dir


@pytest.fixture
def server(live_server):
    return live_server


@pytest.fixture
def browser(chromium):
    return chromium


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = watched_page(context)  # a test that stops the server on purpose removes the expected refusals
    yield page
    context.close()
    # A CSP violation or a script error is a failure of the page, whatever the test checked.
    assert not page.problems, page.problems


def circles(page, floor: str) -> list[tuple[float, float, str]]:
    return page.eval_on_selector_all(
        f"#dots-{floor} circle",
        "cs => cs.map(c => [parseFloat(c.getAttribute('cx')), parseFloat(c.getAttribute('cy')),"
        " c.getAttribute('class')])",
    )


def test_public_map_shows_exactly_the_payload(server, page, wm, demo_layout):
    # On the station's 0.5 m grid (cell centres), as the aggregator sends them; drawn to 0.1 m.
    concourse_dots = [[10.25, 5.25], [12.75, 6.75], [47.25, 15.25], [70.75, 25.25]]
    platform_dots = [[30.25, 10.25], [55.75, 12.25], [90.25, 8.25]]
    frames = [
        wm.make_frame(
            demo_layout,
            "concourse",
            dots=concourse_dots,
            moving=[True, False, True, True],
            levels={"ticket-gates": 2, "concourse-west": 1},
            timestamp_s=time.time(),
        ),
        wm.make_frame(
            demo_layout,
            "platform",
            dots=platform_dots,
            moving=[False, False, True],
            levels={"platform-east": 3},
            timestamp_s=time.time(),
        ),
    ]
    page.goto(f"{server.url}/?station=demo-station")
    page.wait_for_selector("#zone-ticket-gates", state="attached")
    server.send(wm.frames_message(demo_layout, frames, timestamp_s=time.time()))
    page.wait_for_function("() => document.querySelectorAll('#dots-concourse circle').length === 4", timeout=WAIT_MS)
    expected = {
        (round(x, 1), round(y, 1), "dot moving" if m else "dot stopped")
        for (x, y), m in zip(concourse_dots, [True, False, True, True], strict=True)
    }
    assert set(map(tuple, circles(page, "concourse"))) == expected
    assert page.evaluate("() => window.crowdmap.latest().encoding") == "compact-1", "drawn from packed dots"
    assert page.text_content("#label-ticket-gates .zone-level") == "crowded"
    assert page.text_content("#row-ticket-gates .level-cell") == "crowded"
    assert page.text_content("#row-concourse-west .level-cell") == "busy"
    assert page.text_content("#row-platform-east .level-cell") == "very crowded"
    assert page.is_visible("#simulation-label")
    assert page.get_attribute("html", "lang") == "en"
    assert page.text_content("#updated") not in ("", "Waiting for data…")
    shot(page, "public-map-en-concourse")
    # Floors are tabs, reachable by keyboard.
    page.focus("#tab-concourse")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-platform", "aria-selected") == "true"
    assert page.is_visible("#plan-platform") and not page.is_visible("#plan-concourse")
    assert {(x, y) for x, y, _ in circles(page, "platform")} == {(round(x, 1), round(y, 1)) for x, y in platform_dots}
    shot(page, "public-map-en-platform")


def test_language_switch_and_privacy_notice(server, page, demo_layout):
    page.goto(f"{server.url}/?station=demo-station")
    page.wait_for_selector("#legend-list li")
    assert "quiet" in page.text_content("#legend-list")
    page.click("#lang-switch")
    page.wait_for_selector("html[lang=ja]")
    page.wait_for_selector("#legend-list li")
    legend = page.text_content("#legend-list")
    for word in ("空いています", "やや混雑", "混雑", "大変混雑", "データなし"):
        assert word in legend
    assert page.text_content("h1").startswith(demo_layout.station.name.ja)
    # The choice sticks: the next page comes in Japanese without ?lang.
    page.goto(f"{server.url}/privacy")
    assert page.get_attribute("html", "lang") == "ja"
    assert page.text_content("#notice-demo-station .notice-operator") == demo_layout.notice.operator.ja
    assert page.text_content("#notice-demo-station .notice-retention") == demo_layout.notice.retention.ja
    shot(page, "privacy-ja")
    page.goto(f"{server.url}/privacy?lang=en")
    assert page.text_content("#notice-demo-station .notice-contact") == demo_layout.notice.contact.en
    assert page.get_attribute("#privacy-link", "href").startswith("/privacy")


def test_stale_zone_reads_no_data_when_its_camera_dies(server, page, wm, demo_layout):
    page.goto(f"{server.url}/?station=demo-station&lang=en")
    page.wait_for_selector("#zone-platform-west", state="attached")
    live = [
        wm.make_frame(
            demo_layout, "platform", dots=[[20.0, 10.0]], levels={"platform-west": 1}, timestamp_s=time.time()
        )
    ]
    server.send(wm.frames_message(demo_layout, live, timestamp_s=time.time()))
    page.wait_for_function(
        "() => document.querySelector('#row-platform-west .level-cell').textContent === 'busy'", timeout=WAIT_MS
    )
    server.send(wm.status_message(demo_layout, CameraStatus("platform-west", time.time(), "dead", error="stream_lost")))
    dead = [
        wm.make_frame(demo_layout, "platform", dots=[[90.0, 10.0]], stale=["platform-west"], timestamp_s=time.time())
    ]
    server.send(wm.frames_message(demo_layout, dead, timestamp_s=time.time()))
    page.wait_for_function(
        "() => document.querySelector('#row-platform-west .level-cell').textContent === 'no data'", timeout=WAIT_MS
    )
    assert "stale" in page.get_attribute("#zone-platform-west", "class")
    page.click("#tab-platform")
    assert page.text_content("#label-platform-west .zone-level") == "no data"
    shot(page, "public-map-stale-zone")


def test_staff_login_alert_and_acknowledgement(server, page, wm, demo_layout):
    page.goto(f"{server.url}/staff?lang=en")
    assert "/login" in page.url
    page.fill("#username", "sam")
    page.fill("#password", STAFF_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{server.url}/staff?lang=en")
    cookie = next(c for c in page.context.cookies() if c["name"] == "crowdmap_session")
    assert cookie["httpOnly"] and cookie["secure"]
    page.wait_for_function("() => window.crowdmapStaff && window.crowdmapStaff.loaded", timeout=WAIT_MS)
    # The stairs landing was never crowded in this server's earlier tests: this alert is new.
    frames = [
        wm.make_frame(
            demo_layout,
            "concourse",
            levels={"stairs-landing": 3},
            densities={"stairs-landing": 3.9},
            timestamp_s=time.time(),
        )
    ]
    server.send(wm.frames_message(demo_layout, frames, timestamp_s=time.time()))
    selector = "#station-demo-station ul.alerts li.active:has-text('Stairs landing')"
    alert = page.wait_for_selector(selector, timeout=WAIT_MS)
    assert "very crowded (3.90/m²)" in alert.text_content()
    shot(page, "staff-alert")
    alert.query_selector("button.ack").click()
    page.wait_for_selector(selector.replace("li.active", "li.acknowledged"), timeout=WAIT_MS)
    assert "acknowledged by sam" in page.text_content(selector.replace("li.active", "li.acknowledged"))
    card = page.text_content("#station-demo-station .zone-card[data-zone=stairs-landing]")
    assert "3.90" in card and "very crowded" in card
    shot(page, "staff-acknowledged")


def test_connection_lost_and_restored(data_dir, page, wm, demo_layout):
    live = wm.LiveServer(wm.free_port(), data_dir)
    live.start()
    try:
        page.goto(f"{live.url}/?station=demo-station&lang=en")
        page.wait_for_function(
            "() => window.crowdmap && window.crowdmap.socket && window.crowdmap.socket.connected", timeout=WAIT_MS
        )
        live.send(
            wm.frames_message(
                demo_layout,
                [wm.make_frame(demo_layout, "concourse", dots=[[2.0, 2.0]], timestamp_s=time.time())],
                timestamp_s=time.time(),
            )
        )
        page.wait_for_function("() => document.querySelector('#updated').dateTime !== ''", timeout=WAIT_MS)
        last_update = page.text_content("#updated")
        live.stop()
        page.wait_for_selector("#connection.lost", timeout=WAIT_MS)
        assert "Connection lost" in page.text_content("#connection")
        # The time of the last frame stays shown, with a note that nothing newer is coming.
        assert page.text_content("#updated") == last_update
        assert "not updating" in page.text_content("#updated-note")
        shot(page, "public-map-connection-lost")
        live.start()
        page.wait_for_selector("#connection.restored", timeout=WAIT_MS)
        live.send(
            wm.frames_message(
                demo_layout,
                [wm.make_frame(demo_layout, "concourse", dots=[[1.0, 1.0]], timestamp_s=time.time())],
                timestamp_s=time.time(),
            )
        )
        page.wait_for_function(
            "() => document.querySelectorAll('#dots-concourse circle').length === 1", timeout=WAIT_MS
        )
        # Killing the server mid-request is the point of this test: its network errors are expected.
        page.problems[:] = [p for p in page.problems if "net::ERR_" not in p]
    finally:
        live.stop()


def test_pages_load_no_third_party_assets(server, page):
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{server.url}/")
    page.wait_for_selector("#legend-list li")
    assert requested and all(url.startswith(server.url) for url in requested), requested
    assert any(url.endswith("/static/vendor/socket.io.min.js") for url in requested)


def test_phone_layout_fits_the_screen(server, browser, wm, demo_layout):
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    try:
        page.goto(f"{server.url}/?station=demo-station")
        page.wait_for_selector("#legend-list li")
        assert page.get_attribute("html", "lang") == "ja", "the browser's language chooses Japanese"
        frames = [
            wm.make_frame(
                demo_layout,
                "concourse",
                dots=[[20.0, 10.0], [50.0, 20.0]],
                levels={"ticket-gates": 2},
                timestamp_s=time.time(),
            )
        ]
        server.send(wm.frames_message(demo_layout, frames, timestamp_s=time.time()))
        page.wait_for_function(
            "() => document.querySelector('#row-ticket-gates .level-cell').textContent === '混雑'", timeout=WAIT_MS
        )
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow} px on a phone"
        shot(page, "public-map-phone-ja")
    finally:
        context.close()
