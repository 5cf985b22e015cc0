"""The operator's whole task in headless Chromium: log in, click 6 pairs, read residuals, delete one, save."""

import re
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml
from werkzeug.serving import make_server

from homography.fitting import calibrate_camera
from homography.projection import to_floor
from station import load_layout

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "calibrator"
OPERATOR = ("olga", "operator-password-1")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium"),
]

TO_SCREEN = """([id, x, y]) => {
  const svg = document.getElementById(id);
  const point = svg.createSVGPoint();
  point.x = x;
  point.y = y;
  const screen = point.matrixTransform(svg.getScreenCTM());
  return [screen.x, screen.y];
}"""


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        yield context.new_page()
        browser.close()


def click_svg(page, svg_id, x, y):
    screen_x, screen_y = page.evaluate(TO_SCREEN, [svg_id, float(x), float(y)])
    page.mouse.click(screen_x, screen_y)


def drag(page, start, end):
    """Press the mouse at screen point ``start``, move it in steps to ``end`` and let go."""
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=5)
    page.mouse.up()


def residual_cells(page):
    return page.locator("#pairs-table tbody td.residual-cell").all_inner_texts()


def wait_for_residuals(page, count):
    # Locator waits, not wait_for_function: the page's CSP forbids the eval that the latter needs.
    from playwright.sync_api import expect

    expect(page.locator("#pairs-table tbody td.residual-cell")).to_have_count(count)
    expect(page.locator("#pairs-table tbody td.residual-cell", has_text="–")).to_have_count(0)


def test_operator_calibrates_pets_camera_in_chromium(server, page, layout_dir, audit, six_pairs, ground_truth):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(server + "/")
    assert page.url.endswith("/login")
    page.screenshot(path=str(ARTIFACTS / "01-login.png"))
    page.fill("#username", OPERATOR[0])
    page.fill("#password", OPERATOR[1])
    page.click("#login-button")
    page.wait_for_selector("#image-view")
    page.wait_for_load_state("networkidle")
    # The still really arrived (an SVG <image> that failed to load has no natural size to report).
    loaded = page.evaluate(
        """async () => { const r = await fetch('/still.jpg', {credentials: 'same-origin'});
                        return [r.status, r.headers.get('content-type'), r.headers.get('cache-control')]; }"""
    )
    assert loaded[0] == 200
    assert loaded[1] == "image/jpeg"
    assert "no-store" in loaded[2]

    # Before any click the stored calibration is drawn, dashed, for the operator to judge.
    from playwright.sync_api import expect

    expect(page.locator("#summary")).to_contain_text("stored calibration (image_to_floor)")
    assert page.locator("#image-grid.stored polyline").count() >= 20
    assert page.locator("#plan-coverage.stored polygon").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "02-stored-calibration.png"), full_page=True)

    image_px, floor_m = six_pairs
    for index, ((u, v), (x, y)) in enumerate(zip(image_px, floor_m, strict=True)):
        # Alternate the order of the clicks: image first, then plan first.
        if index % 2 == 0:
            click_svg(page, "image-view", u, v)
            click_svg(page, "plan-view", x, y)
        else:
            click_svg(page, "plan-view", x, y)
            click_svg(page, "image-view", u, v)
        if index == 2:
            expect(page.locator("#status")).to_contain_text("Cannot save: need at least 4 point pairs, got 3")
    wait_for_residuals(page, 6)
    residuals = [float(text) for text in residual_cells(page)]
    # Clicks land on whole screen pixels (about 0.06 m of plan each), so a little more than the exact fit.
    assert max(residuals) < 0.25
    assert "Fit accepted" in page.inner_text("#status")
    # With the fit, the operator reads how tall people look and where the detector finds them.
    expect(page.locator("#summary")).to_contain_text("px tall; nanodet reliable on")
    # Pair 4 (the far corner) is the only point up there: the page says so.
    assert "add pairs near #4" in page.inner_text("#status")
    assert page.locator("#image-grid polyline").count() >= 20
    assert page.locator("#plan-coverage polygon").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "03-six-pairs.png"), full_page=True)

    # Drag pair 3's plan point 2 m east: its residual shows the mistake and saving is refused...
    x, y = floor_m[2]
    start = page.evaluate(TO_SCREEN, ["plan-view", float(x), float(y)])
    end = page.evaluate(TO_SCREEN, ["plan-view", float(x) + 2.0, float(y)])
    drag(page, start, end)
    expect(page.locator("#status")).to_contain_text("Cannot save")
    wait_for_residuals(page, 6)
    assert float(residual_cells(page)[2]) == pytest.approx(2.0, abs=0.2)
    assert page.locator("#save-button").is_disabled()
    page.screenshot(path=str(ARTIFACTS / "04-dragged-off.png"), full_page=True)
    # ...and dragging it back restores the fit.
    drag(page, end, start)
    expect(page.locator("#status")).to_contain_text("Fit accepted")
    wait_for_residuals(page, 6)
    assert float(residual_cells(page)[2]) < 0.25

    page.click("#delete-5")
    wait_for_residuals(page, 5)
    assert page.locator("#image-points g").count() == 5
    assert page.locator("#plan-points g").count() == 5
    assert page.locator("#image-grid.stored").count() == 0
    page.click("#save-button")
    expect(page.locator("#save-message")).to_contain_text("Saved 5 pairs")
    page.screenshot(path=str(ARTIFACTS / "05-saved.png"), full_page=True)

    saved = yaml.safe_load((layout_dir / "cameras" / "view-001.yaml").read_text())
    pairs = saved["calibration"]["point_pairs"]
    assert len(pairs) == 5
    kept = np.arange(5)
    assert np.array([p["image_px"] for p in pairs]) == pytest.approx(image_px[kept], abs=1.5)
    assert np.array([p["floor_m"] for p in pairs]) == pytest.approx(floor_m[kept], abs=0.1)
    assert len(list((layout_dir / "cameras" / "history").glob("view-001.*.yaml"))) == 1
    # The calibration clicked in the browser (whole screen pixels) agrees with the official one
    # on every ground-truth foot point of the dataset.
    clicked = calibrate_camera(load_layout(layout_dir).camera("view-001"))
    on_floor_m, valid = to_floor(points_px=ground_truth.image_px, calib=clicked)
    errors_m = np.linalg.norm(on_floor_m[valid] - ground_truth.floor_m[valid], axis=1)
    assert valid.mean() > 0.99
    assert np.median(errors_m) < 0.1
    median_m, p95_m = np.median(errors_m), np.percentile(errors_m, 95)
    print(f"browser-clicked calibration vs ground truth: median {median_m:.3f} m, p95 {p95_m:.3f} m")
    [entry] = audit.read()
    assert entry["user"] == OPERATOR[0]
    assert entry["pair_count"] == 5
    # No script was blocked by the content security policy and nothing failed in the page.
    assert problems == []


# ---- the tool's aids: plan drawing, landmarks, cursor, refused clicks, zoom and pan, typing ----


def log_in(page, server, lang=None):
    page.goto(server + "/" + (f"?lang={lang}" if lang else ""))
    page.fill("#username", OPERATOR[0])
    page.fill("#password", OPERATOR[1])
    page.click("#login-button")
    page.wait_for_selector("#image-view")
    page.wait_for_load_state("networkidle")


def hover_svg(page, svg_id, x, y):
    screen_x, screen_y = page.evaluate(TO_SCREEN, [svg_id, float(x), float(y)])
    page.mouse.move(screen_x, screen_y)


def pairs_of(page):
    return page.evaluate("() => window.calibrator.state.pairs")


def console_errors(page):
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_plan_drawing_landmarks_and_the_cursor_in_metres(server, page):
    from playwright.sync_api import expect

    problems = console_errors(page)
    log_in(page, server)
    # The station's drawing under the plan, served to operators only and unable to run script.
    assert page.get_attribute("#plan-drawing", "href") == "/plan-image"
    served = page.evaluate(
        """async () => { const r = await fetch('/plan-image', {credentials: 'same-origin'});
                        return [r.status, r.headers.get('content-type'), r.headers.get('content-security-policy')]; }"""
    )
    assert served[0] == 200 and served[1].startswith("image/svg+xml") and "sandbox" in served[2]
    landmarks = page.locator("#plan-landmarks .landmark")
    assert landmarks.count() == 9
    assert "Lamp post foot" in page.locator("#plan-landmarks").text_content()
    # The grid is drawn over the drawing and the landmarks.
    order = page.evaluate("() => [...document.getElementById('plan-view').children].map((c) => c.id)")
    assert order.index("plan-base") < order.index("plan-grid")
    hover_svg(page, "plan-view", 10.0, 5.0)
    x, y = (float(v) for v in re.findall(r"[-\d.]+(?= m)", page.inner_text("#plan-cursor")))
    assert (x, y) == pytest.approx((10.0, 5.0), abs=0.06)
    hover_svg(page, "plan-view", -0.5, 5.0)
    assert page.inner_text("#plan-cursor") == "outside the plan"
    # A click next to a landmark takes its surveyed coordinates.
    click_svg(page, "image-view", 432, 391)
    click_svg(page, "plan-view", 2.3, 20.6)
    expect(page.locator("#pairs-table tbody tr")).to_have_count(1)
    assert pairs_of(page)[0]["floor_m"] == [2.22, 20.66]
    page.screenshot(path=str(ARTIFACTS / "06-landmark.png"))
    assert problems == []


def test_a_click_outside_the_plan_is_refused_and_pairs_never_mismatch(server, page, six_pairs):
    from playwright.sync_api import expect

    problems = console_errors(page)
    log_in(page, server)
    (a, b), (pa, pb) = six_pairs[0][:2], six_pairs[1][:2]
    click_svg(page, "image-view", *a)
    expect(page.locator("#next-step")).to_have_text(
        "Pair 1: now click the same spot on the plan (or type its coordinates)."
    )
    assert page.inner_text("#pairs-table tbody tr td:nth-child(3)") == "click the plan"
    # Outside the plan: refused where it happened and in words; nothing is placed.
    click_svg(page, "plan-view", -0.5, 3.0)
    expect(page.locator("#next-step")).to_contain_text("outside the plan")
    assert page.locator("#refused-mark").count() == 1
    assert len(pairs_of(page)) == 1 and pairs_of(page)[0]["floor_m"] is None
    page.screenshot(path=str(ARTIFACTS / "07-refused.png"))
    # Another image click moves the pending point instead of starting a second pair...
    click_svg(page, "image-view", *b)
    pairs = pairs_of(page)
    assert len(pairs) == 1 and pairs[0]["image_px"] == pytest.approx(list(b), abs=1.5)
    # ...so the plan click that follows completes it with the right point.
    click_svg(page, "plan-view", *pb)
    expect(page.locator("#next-step")).to_have_text("Pair 2: click a point on the camera image or on the plan.")
    [pair] = pairs_of(page)
    assert pair["image_px"] == pytest.approx(list(b), abs=1.5) and pair["floor_m"] == pytest.approx(list(pb), abs=0.1)
    # Plan first works the same way round.
    click_svg(page, "plan-view", *pa)
    expect(page.locator("#next-step")).to_have_text("Pair 2: now click the same spot on the camera image.")
    click_svg(page, "image-view", *a)
    assert [p["floor_m"] for p in pairs_of(page)][1] == pytest.approx(list(pa), abs=0.1)
    assert problems == []


def test_zoom_and_pan_on_both_panes_keep_clicks_exact(server, page, six_pairs):
    problems = console_errors(page)
    log_in(page, server)
    (u, v), (x, y) = six_pairs[0][4], six_pairs[1][4]
    before = page.get_attribute("#image-view", "viewBox")
    page.click(".zoom[data-view=image-view] .zoom-in")
    page.click(".zoom[data-view=image-view] .zoom-in")
    zoomed = page.get_attribute("#image-view", "viewBox")
    assert zoomed != before and float(zoomed.split()[2]) < 768 / 2
    # Drag an empty spot: the view pans, no point is placed.
    box = page.locator("#image-view").bounding_box()
    drag(page, (box["x"] + 200, box["y"] + 200), (box["x"] + 100, box["y"] + 150))
    assert page.get_attribute("#image-view", "viewBox") != zoomed
    assert pairs_of(page) == []
    # Bring the target into view and click it: the stored pixel is the one under the cursor.
    page.click(".zoom[data-view=image-view] .zoom-reset")
    page.click(".zoom[data-view=image-view] .zoom-in")
    click_svg(page, "image-view", u, v)
    # The plan zooms with the wheel around the cursor.
    hover_svg(page, "plan-view", x, y)
    page.mouse.wheel(0, -400)
    assert float(page.get_attribute("#plan-view", "viewBox").split()[2]) < 28
    click_svg(page, "plan-view", x, y)
    [pair] = pairs_of(page)
    assert pair["image_px"] == pytest.approx([u, v], abs=0.7), "finer than a screen pixel when zoomed"
    assert pair["floor_m"] == pytest.approx([x, y], abs=0.03)
    page.screenshot(path=str(ARTIFACTS / "08-zoomed.png"))
    assert problems == []


def test_typed_plan_coordinates(server, page, six_pairs):
    from playwright.sync_api import expect

    problems = console_errors(page)
    log_in(page, server)
    click_svg(page, "image-view", *six_pairs[0][0])
    expect(page.locator("#type-target")).to_have_text("plan point of pair 1:")
    page.fill("#type-x", "40")
    page.fill("#type-y", "5")
    page.click("#type-set")
    expect(page.locator("#next-step")).to_contain_text("outside the plan")
    assert pairs_of(page)[0]["floor_m"] is None
    x, y = six_pairs[1][0]
    page.fill("#type-x", f"{x:.3f}")
    page.fill("#type-y", f"{y:.3f}")
    page.click("#type-set")
    expect(page.locator("#next-step")).to_have_text("Pair 2: click a point on the camera image or on the plan.")
    assert pairs_of(page)[0]["floor_m"] == pytest.approx([round(x, 3), round(y, 3)], abs=1e-9)
    assert problems == []


def test_the_tool_in_japanese(server, page, six_pairs):
    from playwright.sync_api import expect

    problems = console_errors(page)
    page.goto(server + "/login?lang=ja")
    assert page.get_attribute("html", "lang") == "ja" and page.inner_text("h1") == "カメラの校正"
    log_in(page, server, lang="ja")
    assert page.get_attribute("html", "lang") == "ja"
    assert "カメラ画像の点をクリック" in page.inner_text(".hint")
    expect(page.locator("#next-step")).to_have_text("組1: カメラ画像か平面図の点をクリックしてください。")
    for (u, v), (x, y) in list(zip(*six_pairs, strict=True))[:3]:
        click_svg(page, "image-view", u, v)
        click_svg(page, "plan-view", x, y)
    expect(page.locator("#status")).to_have_text("保存できません: 点の組が4組以上必要です(現在3組)")
    # With every pair the fit is accepted, and the detector's line is in Japanese too.
    for (u, v), (x, y) in list(zip(*six_pairs, strict=True))[3:]:
        click_svg(page, "image-view", u, v)
        click_svg(page, "plan-view", x, y)
    wait_for_residuals(page, 6)
    expect(page.locator("#summary")).to_contain_text("人の高さは")
    expect(page.locator("#summary")).to_contain_text("nanodet が確実に人を見つけるのは床の写る行の")
    assert page.inner_text("#pairs-table thead").split() == [
        "番号",
        "画像",
        "(px)",
        "平面",
        "(m)",
        "残差",
        "(m)",
        "1点抜き誤差",
        "(m)",
    ]
    page.screenshot(path=str(ARTIFACTS / "09-japanese.png"), full_page=True)
    assert problems == []
