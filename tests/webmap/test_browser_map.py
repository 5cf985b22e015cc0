"""The public map on a phone and a desktop: labels, zoom, callouts, the list, the legend's states.

Debian's Chromium against the real gevent server of ``live_server.py`` (every bundled station,
each with its camera check fitted in a child process, and a history store in which one demo
zone has weeks of quiet minutes at this time of day). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import itertools
import time

import pytest
from shapely.geometry import Point, Polygon, box

from tests.webmap.pages import shot, watched_page

pytestmark = pytest.mark.browser

WAIT_MS = 15_000
MIN_TEXT_PX = 12
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
STATIONS = ("demo-station", "pets2009", "grand-central")

# Everything the tests read of the drawn plan, per zone, in plan metres and screen pixels.
LABELS_JS = """(floor) => {
  const svg = document.getElementById(`plan-${floor}`);
  const ctm = svg.getScreenCTM();
  const screen = (b) => {
    const p = svg.createSVGPoint(); p.x = b.x; p.y = b.y; const a = p.matrixTransform(ctm);
    p.x = b.x + b.width; p.y = b.y + b.height; const c = p.matrixTransform(ctm);
    return [a.x, a.y, c.x, c.y];
  };
  const out = {svg: (() => { const r = svg.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })(),
               layers: [...svg.children].map((c) => c.getAttribute('class')), zones: {}};
  for (const label of svg.querySelectorAll('text.zone-label')) {
    const id = label.dataset.zone;
    const badge = svg.querySelector(`.badge[data-zone="${id}"]`);
    const shown = label.getAttribute('display') !== 'none';
    const b = label.getBBox();
    const bb = badge.getBBox();
    out.zones[id] = {
      anchor: [parseFloat(label.dataset.anchorX), parseFloat(label.dataset.anchorY)],
      shown: shown,
      text: shown ? [...label.querySelectorAll('tspan')].filter((t) => t.getAttribute('display') !== 'none')
                      .map((t) => t.textContent).join(' ') : '',
      font_px: parseFloat(label.getAttribute('font-size')) * ctm.a,
      plan_box: [b.x, b.y, b.x + b.width, b.y + b.height],
      screen_box: screen(b),
      badge: badge.getAttribute('display') !== 'none',
      badge_box: screen(bb),
      badge_font_px: parseFloat(badge.querySelector('text').getAttribute('font-size')) * ctm.a,
    };
  }
  return out;
}"""


@pytest.fixture
def open_page(chromium):
    contexts = []

    def open_(size: str, lang: str):
        context = chromium.new_context(locale="ja-JP" if lang == "ja" else "en-GB", **SIZES[size])
        contexts.append(context)
        page = watched_page(context)
        return page

    yield open_
    for context in contexts:
        problems = context.pages[0].problems if context.pages else []
        context.close()
        # A CSP violation or a script error is a failure of the page, whatever the test checked.
        assert not problems, problems


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(inner, outer, slack: float = 0.5) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def live_frames(wm, layout, levels=None, densities=None, stale=()):
    return wm.frames_message(
        layout,
        [
            wm.make_frame(layout, floor.id, levels=levels, densities=densities, stale=stale, timestamp_s=time.time())
            for floor in layout.floors
        ],
        timestamp_s=time.time(),
    )


@pytest.mark.parametrize("station", STATIONS)
@pytest.mark.parametrize(("size", "lang"), [("phone", "ja"), ("phone", "en"), ("desktop", "ja"), ("desktop", "en")])
def test_every_zone_label_sits_in_its_own_zone_legibly(live_server, open_page, wm, station, size, lang):
    layout = wm.load_station(station)
    page = open_page(size, lang)
    page.goto(f"{live_server.url}/?station={station}&lang={lang}")
    page.wait_for_selector("#legend-list li")
    live_server.send(live_frames(wm, layout, levels={z.id: 3 for z in layout.zones[:1]}))
    first = layout.zones[0].id
    no_data = "データなし" if lang == "ja" else "no data"
    page.wait_for_function(
        f"() => document.querySelector('#row-{first} .level-word').textContent !== '{no_data}'", timeout=WAIT_MS
    )
    for floor in layout.floors:
        page.click(f"#tab-{floor.id}")
        drawn = page.evaluate(LABELS_JS, floor.id)
        zones = {zone.id: zone for zone in layout.zones_on(floor.id)}
        assert set(drawn["zones"]) == set(zones)
        # Labels above the dots, dots above the zones' colours.
        layers = drawn["layers"]
        assert layers.index("zones") < layers.index("dots") < layers.index("zone-labels")
        boxes = []
        for zone_id, label in drawn["zones"].items():
            polygon = zones[zone_id].polygon
            anchor = Point(label["anchor"])
            assert polygon.contains(anchor), f"{zone_id}: label anchor {label['anchor']} outside its zone"
            for other in zones.values():
                if other.id != zone_id:
                    assert not other.polygon.contains(anchor), f"{zone_id}: label anchor lies in zone {other.id}"
            # ...in the zone's free floor, not on a stairwell or a kiosk (the centroid of an L can be).
            for obstacle in floor.obstacles_m:
                if Polygon(obstacle).area >= 4.0:
                    assert not Polygon(obstacle).contains(anchor), f"{zone_id}: label anchor on an obstacle"
            if size == "desktop":
                assert label["shown"], f"{zone_id}: no room for its words on a desktop-wide map"
            if label["shown"]:
                assert label["font_px"] >= MIN_TEXT_PX - 0.01, (zone_id, label["font_px"])
                assert polygon.buffer(1e-6).contains(box(*label["plan_box"])), f"{zone_id}: label leaves its zone"
                assert zones[zone_id].name.ja[0] in label["text"] or zones[zone_id].name.en[0] in label["text"]
                boxes.append((zone_id, label["screen_box"]))
            elif label["badge"]:
                assert label["badge_font_px"] >= MIN_TEXT_PX - 0.01
                boxes.append((zone_id, label["badge_box"]))
        assert boxes, "no zone of the floor shows a label or a badge"
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
            assert not overlaps(box_a, box_b), f"labels of {a} and {b} overlap"
        for zone_id, screen_box in boxes:
            assert inside(screen_box, drawn["svg"]), f"label of {zone_id} is cut at the map's edge"
    shot(page, f"map-{station}-{size}-{lang}")


def test_phone_callouts_and_zoom_make_every_zone_legible(live_server, open_page, wm):
    layout = wm.load_station("demo-station")
    page = open_page("phone", "ja")
    page.goto(f"{live_server.url}/?station=demo-station")
    page.wait_for_selector("#legend-list li")
    live_server.send(live_frames(wm, layout, levels={"ticket-gates": 2, "platform-west": 1}))
    page.wait_for_function(
        "() => document.querySelector('#row-ticket-gates .level-word').textContent === '混雑'", timeout=WAIT_MS
    )
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
    drawn = page.evaluate(LABELS_JS, "concourse")
    small = [zone_id for zone_id, label in drawn["zones"].items() if not label["shown"]]
    assert small, "at 390 px some demo zones are too small for their words: they must get badges"
    # A tap on each zone opens a callout with its name and level, in legible type.
    for zone in layout.zones_on("concourse"):
        x, y = page.evaluate(
            """([floor, x, y]) => { const svg = document.getElementById(`plan-${floor}`);
               const p = svg.createSVGPoint(); p.x = x; p.y = y; const s = p.matrixTransform(svg.getScreenCTM());
               return [s.x, s.y]; }""",
            ["concourse", *drawn["zones"][zone.id]["anchor"]],
        )
        page.touchscreen.tap(x, y)
        callout = page.locator("#callout-concourse")
        callout.wait_for(state="visible", timeout=WAIT_MS)
        assert zone.name.ja in callout.inner_text()
        assert page.text_content(f"#row-{zone.id} .level-word") in callout.inner_text()
        sizes = callout.evaluate(
            "(c) => [...c.querySelectorAll('p')].map((p) => parseFloat(getComputedStyle(p).fontSize))"
        )
        assert min(sizes) >= MIN_TEXT_PX
        box_ = callout.bounding_box()
        assert box_["x"] >= 0 and box_["x"] + box_["width"] <= 390
    shot(page, "map-phone-callout")
    page.click("#callout-concourse .callout-close")
    assert page.locator("#callout-concourse").is_hidden()
    # Zoomed in, the plan uses more of the screen's height and the small zones' words fit.
    height_before = page.evaluate("() => document.getElementById('plan-concourse').getBoundingClientRect().height")
    for _ in range(3):
        page.click("#panel-concourse .zoom-in")
        drawn = page.evaluate(LABELS_JS, "concourse")
        if drawn["zones"]["stairs-landing"]["shown"]:
            break
    height_after = page.evaluate("() => document.getElementById('plan-concourse').getBoundingClientRect().height")
    assert height_after > height_before
    # Drag the plan until the landing is in the middle: then its words are there, in its zone.
    scale, centre = page.evaluate(
        "() => [window.crowdmap.views.concourse.scale, window.crowdmap.views.concourse.centre]"
    )
    svg_box = page.locator("#plan-concourse").bounding_box()
    start = (svg_box["x"] + svg_box["width"] / 2, svg_box["y"] + svg_box["height"] / 2)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] - (57.5 - centre[0]) * scale, start[1] - (14.5 - centre[1]) * scale, steps=8)
    page.mouse.up()
    assert page.locator("#callout-concourse").is_hidden(), "a drag is not a tap"
    drawn = page.evaluate(LABELS_JS, "concourse")
    landing = drawn["zones"]["stairs-landing"]
    assert landing["shown"] and landing["font_px"] >= MIN_TEXT_PX - 0.01
    shot(page, "map-phone-zoomed")
    page.click("#panel-concourse .zoom-reset")
    assert page.locator("#panel-concourse .zoom-reset").is_disabled()


def test_keyboard_opens_a_zone_callout(live_server, open_page):
    page = open_page("desktop", "en")
    page.goto(f"{live_server.url}/?station=demo-station&lang=en")
    page.wait_for_selector("#legend-list li")
    page.focus("#zone-ticket-gates")
    page.keyboard.press("Enter")
    callout = page.locator("#callout-concourse")
    callout.wait_for(state="visible")
    assert "Ticket gates" in callout.inner_text()
    assert page.evaluate("() => document.activeElement.id") == "callout-concourse"
    page.keyboard.press("Escape")
    assert callout.is_hidden()
    assert page.evaluate("() => document.activeElement.id") == "zone-ticket-gates"


def test_list_follows_the_floor_and_level_words_stay_on_one_line(live_server, open_page, wm):
    layout = wm.load_station("demo-station")
    page = open_page("phone", "ja")
    page.goto(f"{live_server.url}/?station=demo-station")
    page.wait_for_selector("#legend-list li")
    live_server.send(live_frames(wm, layout))
    page.wait_for_function(
        "() => document.querySelector('#row-platform-east .level-word').textContent === '空いています'",
        timeout=WAIT_MS,
    )
    visible = "rs => rs.filter((r) => r.offsetParent).map((r) => r.dataset.zone)"
    visible_rows = page.eval_on_selector_all("tr[data-zone]", visible)
    assert visible_rows == [z.id for z in layout.zones_on("concourse")]
    page.click("#tab-platform")
    visible_rows = page.eval_on_selector_all("tr[data-zone]", visible)
    assert visible_rows == [z.id for z in layout.zones_on("platform")]
    # The floor is the table's caption, not a column repeated on every row.
    assert page.eval_on_selector("#zones-platform thead tr", "tr => tr.children.length") == 3
    assert layout.floor("platform").name.ja in page.text_content("#zones-platform caption")
    lines = page.eval_on_selector_all("#zones-platform .level-word", "ws => ws.map((w) => w.getClientRects().length)")
    assert lines and all(n == 1 for n in lines), "a level word wraps"


def test_no_data_is_hatched_and_uncovered_floor_is_drawn_apart(live_server, open_page, wm):
    layout = wm.load_station("demo-station")
    page = open_page("desktop", "en")
    page.goto(f"{live_server.url}/?station=demo-station&lang=en")
    page.wait_for_selector("#legend-list li")
    live_server.send(live_frames(wm, layout, stale=["shop-front"]))
    page.wait_for_function(
        "() => document.querySelector('#row-shop-front .level-word').textContent === 'no data'"
        " && document.querySelector('#row-concourse-west .level-word').textContent === 'quiet'",
        timeout=WAIT_MS,
    )
    fill = page.eval_on_selector("#zone-shop-front .zone-area", "a => getComputedStyle(a).fill")
    assert fill.startswith("url(") and "hatch" in fill, fill
    live = page.eval_on_selector("#zone-concourse-west .zone-area", "a => getComputedStyle(a).fill")
    assert not live.startswith("url("), live
    # The cameras of the demo leave floor unseen: drawn with its own pattern, named in the legend.
    assert page.locator("#uncovered-concourse").count() == 1
    assert "uncovered" in page.eval_on_selector("#uncovered-concourse", "p => getComputedStyle(p).fill")
    assert page.text_content("#legend-uncovered") == "not covered by cameras"
    assert page.is_visible("#legend-list .swatch.stale")


def test_busier_than_usual_on_the_map_and_history_state(live_server, open_page, wm):
    layout = wm.load_station("demo-station")
    page = open_page("desktop", "en")
    page.goto(f"{live_server.url}/?station=demo-station&lang=en")
    page.wait_for_selector("#legend-list li")
    # One zone has weeks of quiet history: the page does not say history is missing.
    assert page.is_hidden("#history-state")
    live_server.send(live_frames(wm, layout, levels={"concourse-west": 1}, densities={"concourse-west": 0.6}))
    page.wait_for_function(
        "() => document.querySelector('#zone-concourse-west').classList.contains('busier')", timeout=WAIT_MS
    )
    assert "busier than usual" in page.text_content("#label-concourse-west")
    assert "busier than usual" in page.text_content("#row-concourse-west .level-cell")
    shot(page, "map-busier")
    # A quiet minute clears it.
    live_server.send(live_frames(wm, layout, densities={"concourse-west": 0.05}))
    page.wait_for_function(
        "() => !document.querySelector('#zone-concourse-west').classList.contains('busier')", timeout=WAIT_MS
    )
    # A station without history says so instead of never showing the hint.
    page.goto(f"{live_server.url}/?station=pets2009&lang=en")
    page.wait_for_selector("#history-state:not([hidden])")
    assert "Not enough history yet" in page.text_content("#history-state")
    assert "2 weeks" in page.text_content("#history-state")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_privacy_notice_on_a_phone_says_who_where_and_how_to_ask(live_server, open_page, wm, lang):
    layout = wm.load_station("demo-station")
    page = open_page("phone", lang)
    page.goto(f"{live_server.url}/?station=demo-station&lang={lang}")
    page.click("#privacy-link")
    page.wait_for_selector("#notice-demo-station")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
    notice = page.locator("#notice-demo-station")
    # A contact one can reach, not only a name.
    reach = layout.notice.contact_details
    assert notice.locator("a.notice-url").get_attribute("href") == reach.url
    assert notice.locator("a.notice-email").get_attribute("href") == f"mailto:{reach.email}"
    # Where the cameras are: per floor, how many, and the areas they film (from the camera check).
    places = notice.locator(".camera-place").all_inner_texts()
    assert len(places) == len(layout.floors)
    for floor, text in zip(layout.floors, places, strict=True):
        assert getattr(floor.name, lang) in text
        assert str(sum(c.floor == floor.id for c in layout.cameras)) in text
        assert all(getattr(z.name, lang) in text for z in layout.zones_on(floor.id))
    assert not any(c.id in notice.inner_text() for c in layout.cameras), "floors and areas, not camera ids"
    # The data is public and reusable; how to ask about one's own data.
    assert notice.locator(".notice-open-data").inner_text() == getattr(layout.notice.open_data, lang)
    assert notice.locator(".notice-data-requests").inner_text() == getattr(layout.notice.data_requests, lang)
    shot(page, f"privacy-phone-{lang}")


def test_pinch_zooms_the_plan_on_a_phone(live_server, open_page):
    page = open_page("phone", "en")
    page.goto(f"{live_server.url}/?station=demo-station&lang=en")
    page.wait_for_selector("#legend-list li")
    box = page.locator("#plan-concourse").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    before = page.evaluate("() => window.crowdmap.views.concourse.zoom")
    # Two fingers moving apart, as the phone's touch screen reports them (Chrome DevTools protocol).
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, spread: float) -> None:
        points = (
            [] if kind == "touchEnd" else [{"x": cx - spread, "y": cy, "id": 1}, {"x": cx + spread, "y": cy, "id": 2}]
        )
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 20)
    for spread in range(25, 100, 5):
        touch("touchMove", spread)
    touch("touchEnd", 0)
    after = page.evaluate("() => window.crowdmap.views.concourse.zoom")
    assert after > before * 2.5, f"zoom {before} -> {after}"
    assert page.locator("#callout-concourse").is_hidden(), "a pinch is not a tap"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, "the page itself did not zoom"
