"""The staff dashboard and the operator's home in Chromium, on a phone, a tablet and a desktop.

Against the session's live server (``live_server.py``: every bundled station with its camera
check, a history store where one demo zone has weeks of history). Screenshots: test-artifacts/.
"""

from __future__ import annotations

import time

import pytest

from iconizer.types import CameraStatus
from tests.webmap.pages import shot, watched_page

pytestmark = pytest.mark.browser

WAIT_MS = 15_000
SIZES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "tablet": {"viewport": {"width": 820, "height": 1180}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
# Words of the English page that must never show on the Japanese one (and the role, issue 15).
ENGLISH_WORDS = ("(staff)", "(operator)", "Alerts", "Areas", "Cameras", "Last hour", "usual day", "Acknowledge",
                 "Export CSV", "Live map", "Density", "Level of service", "Earlier alerts", "Play a sound")  # fmt: skip


@pytest.fixture
def staff_page(chromium, wm):
    contexts = []

    def open_(server, size: str, lang: str, user: str = "sam", password: str | None = None):
        context = chromium.new_context(locale="ja-JP" if lang == "ja" else "en-GB", **SIZES[size])
        contexts.append(context)
        page = watched_page(context)
        page.goto(f"{server.url}/staff?lang={lang}")
        page.fill("#username", user)
        page.fill("#password", password or wm.BROWSER_STAFF_PASSWORD)
        page.click("#login-submit")
        page.wait_for_function("() => window.crowdmapStaff && window.crowdmapStaff.loaded", timeout=WAIT_MS)
        return page

    yield open_
    for context in contexts:
        problems = context.pages[0].problems if context.pages else []
        context.close()
        assert not [p for p in problems if "net::ERR_" not in p], problems


def frames(wm, layout, **kwargs):
    return wm.frames_message(
        layout, [wm.make_frame(layout, f.id, timestamp_s=time.time(), **kwargs) for f in layout.floors], time.time()
    )


@pytest.mark.parametrize(("size", "lang"), [("phone", "ja"), ("tablet", "en"), ("desktop", "ja"), ("desktop", "en")])
def test_dashboard_fits_every_screen_and_speaks_one_language(live_server, staff_page, wm, size, lang):
    layout = wm.load_station("demo-station")
    page = staff_page(live_server, size, lang)
    live_server.send(frames(wm, layout, densities={"platform-west": 0.2}))
    page.wait_for_selector("#station-demo-station .zone-card[data-zone=platform-west]")
    width = SIZES[size]["viewport"]["width"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    text = page.inner_text("body")
    if lang == "ja":
        leaked = [word for word in ENGLISH_WORDS if word in text]
        assert not leaked, f"English on the Japanese page: {leaked}"
        assert "(スタッフ)" in text
    else:
        assert "(staff)" in text
    shot(page, f"staff-{size}-{lang}")


def test_both_scales_with_their_meaning_and_readable_charts(live_server, staff_page, wm):
    layout = wm.load_station("demo-station")
    page = staff_page(live_server, "desktop", "en")
    page.click("#scales summary")
    scales = page.inner_text("#scales")
    for word in ("quiet", "busy", "crowded", "very crowded", "free flow", "flow breaks down", "Walkway", "Queuing"):
        assert word in scales
    assert page.locator("#los-scale tbody tr").count() == 6
    live_server.send(frames(wm, layout, levels={"concourse-west": 1}, densities={"concourse-west": 0.5}))
    card = page.locator("#station-demo-station .zone-card[data-zone=concourse-west]")
    card.locator(".busier-note").wait_for(timeout=WAIT_MS)
    assert "LOS" in card.locator(".los dd").inner_text() and "–" in card.locator(".los dd").inner_text()
    assert "busy from 0.43" in card.inner_text()
    chart = card.locator("figure.chart-box svg.chart")
    # A time axis, a density axis, the three level bounds and the usual day (this zone has history).
    assert chart.locator("text.tick.x").count() >= 3
    assert all(":" in t for t in chart.locator("text.tick.x").all_text_contents())
    assert chart.locator("text.tick.y").count() >= 3
    assert chart.locator("rect.bound").count() == 3
    assert chart.locator(".usual").count() >= 1
    assert card.locator(".history-note").count() == 0
    # Zones without history say so instead of drawing nothing.
    other = page.locator("#station-demo-station .zone-card[data-zone=platform-east] .history-note").first
    assert "not enough history yet" in other.inner_text() and "2 weeks" in other.inner_text()
    # The chart follows the live frames, not only the per-minute refresh.
    before = chart.locator(".today").first.get_attribute("cy") or chart.locator(".today").first.get_attribute("points")
    for density in (1.0, 1.2):
        live_server.send(frames(wm, layout, levels={"concourse-west": 3}, densities={"concourse-west": density}))
        time.sleep(0.3)
    page.wait_for_function(
        "(before) => { const n = document.querySelector("
        "'#station-demo-station .zone-card[data-zone=concourse-west] figure svg .today');"
        " return n && (n.getAttribute('cy') || n.getAttribute('points')) !== before; }",
        arg=before,
        timeout=WAIT_MS,
    )
    # The live map: the public map's renderer, with "busier than usual".
    page.wait_for_selector("#staff-demo-station-zone-concourse-west.busier", timeout=WAIT_MS)
    assert page.locator("#staff-demo-station-dots-concourse circle").count() == 0  # frames above carry no dots
    shot(page, "staff-charts")


def test_a_dead_camera_raises_an_alert_with_its_zones_title_and_sound(live_server, staff_page, wm):
    layout = wm.load_station("demo-station")
    page = staff_page(live_server, "desktop", "en")
    page.check("#alert-sound")
    title = page.title()
    live_server.send(wm.status_message(layout, CameraStatus("platform-stairs", time.time(), "live", 10.0, 0.1)))
    live_server.send(
        wm.status_message(layout, CameraStatus("platform-stairs", time.time(), "dead", error="stream_lost"))
    )
    selector = "#station-demo-station ul.alerts li.camera.active:has-text('platform-stairs')"
    alert = page.wait_for_selector(selector, timeout=WAIT_MS)
    text = alert.inner_text()
    assert "dead" in text and "Platform (tracks 1 and 2)" in text
    assert "Platform, foot of the stairs" in text, "the zones the camera covers"
    assert page.title() != title and "alerts" in page.title()
    assert page.evaluate("() => window.crowdmapStaff.beeps") >= 1
    camera = page.locator("#station-demo-station li.camera[data-camera=platform-stairs]")
    assert "dead" in camera.inner_text() and camera.locator(".fps dd").inner_text() == "—"
    shot(page, "staff-camera-alert")
    live_server.send(wm.status_message(layout, CameraStatus("platform-stairs", time.time(), "live", 10.0, 0.1)))
    page.wait_for_selector(
        selector.replace("ul.alerts", "ul.alerts-cleared").replace(".active", ".cleared"), state="attached"
    )
    page.click("#station-demo-station .alert-history summary")
    assert "cleared after" in page.inner_text("#station-demo-station ul.alerts-cleared")
    # Sound off: the choice is the user's, and it sticks.
    page.uncheck("#alert-sound")
    page.reload()
    page.wait_for_function("() => window.crowdmapStaff && window.crowdmapStaff.loaded", timeout=WAIT_MS)
    assert not page.is_checked("#alert-sound")


def test_alert_history_and_acknowledgements_survive_a_restart(tmp_path, staff_page, wm, browser_data_dir):
    import shutil

    layout = wm.load_station("demo-station")
    data = tmp_path / "data"
    shutil.copytree(browser_data_dir, data, ignore=shutil.ignore_patterns("alerts.sqlite3"))
    server = wm.LiveServer(wm.free_port(), data)
    server.start()
    try:
        page = staff_page(server, "desktop", "en")
        server.send(frames(wm, layout, levels={"platform-east": 3}, densities={"platform-east": 6.0}))
        selector = "#station-demo-station ul.alerts li.active:has-text('Platform, east end')"
        page.wait_for_selector(selector, timeout=WAIT_MS).query_selector("button.ack").click()
        page.wait_for_selector(selector.replace("li.active", "li.acknowledged"), timeout=WAIT_MS)
        server.send(frames(wm, layout, densities={"platform-east": 0.1}))
        page.wait_for_selector(
            "#station-demo-station ul.alerts-cleared li:has-text('Platform, east end')", state="attached"
        )
        server.stop()
        server.start()
        page = staff_page(server, "desktop", "en")  # sessions may not outlive the process; alerts do
        kept = page.locator("#station-demo-station ul.alerts-cleared li:has-text('Platform, east end')")
        assert kept.count() == 1
        page.click("#station-demo-station .alert-history summary")
        text = kept.inner_text()
        assert "acknowledged by sam" in text and "peak 6.00/m²" in text and "cleared after" in text
    finally:
        server.stop()


@pytest.mark.parametrize(("size", "lang"), [("phone", "ja"), ("desktop", "en")])
def test_operator_home_lists_cameras_errors_and_the_way_to_calibrate(live_server, staff_page, wm, size, lang):
    page = staff_page(live_server, size, lang, user="ola", password=wm.BROWSER_OPERATOR_PASSWORD)
    page.click("a[href='/operator']")
    page.wait_for_selector("#operator-demo-station")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= SIZES[size]["viewport"]["width"]
    layout = wm.load_station("demo-station")
    cameras = page.locator("#operator-demo-station li.camera")
    assert sorted(cameras.evaluate_all("cs => cs.map((c) => c.dataset.camera)")) == sorted(c.id for c in layout.cameras)
    # The check ran in a child process of the server: every demo camera fitted, its coverage known.
    assert "check-ok" in page.get_attribute("#check-demo-station", "class")
    first = page.locator("#operator-demo-station li.camera[data-camera=concourse-west]")
    assert first.locator(".coverage").inner_text().endswith("m²")
    # The check also says how tall people look there and whether the detector finds them.
    assert first.locator(".camera-detector").count() == 1
    assert "crowdmap calibrate --station demo-station --camera concourse-west" in first.inner_text()
    floors = page.locator("#operator-demo-station .floor-coverage")
    assert floors.count() == 2 and "%" in floors.first.inner_text()
    # The PETS camera's matrix calibration, and the tool's address.
    pets = page.locator("#operator-pets2009 li.camera[data-camera=view-001]")
    assert pets.locator(".kind").inner_text() == ("射影行列" if lang == "ja" else "image-to-floor matrix")
    assert page.get_attribute("#calibrator-link", "href") == "http://127.0.0.1:8100/"
    if lang == "ja":
        assert "(オペレーター)" in page.inner_text("body") and "Calibration" not in page.inner_text("body")
    shot(page, f"operator-{size}-{lang}")
