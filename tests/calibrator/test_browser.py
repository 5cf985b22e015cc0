"""The operator's whole task in headless Chromium: log in, click 6 pairs, read residuals, delete one, save."""

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
