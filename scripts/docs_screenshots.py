"""Take the screenshots of docs/WEB.md and docs/OPERATOR.md.

The map on a phone, the staff dashboard, the calibration tool. Run from the repository root:

    .venv/bin/python scripts/docs_screenshots.py [--out docs/images] [--warmup-s 70]

- The map and the dashboard come from ``crowdmap demo`` (the simulated station, so no real
  person is involved), with a history store holding three synthetic past weeks so that the
  usual day's line and "busier than usual" show, and a staff account made for the run.
- The calibration tool runs on a *synthetic still* of a demo camera: the demo plan drawn flat
  and seen through the camera's own calibration. No camera image of a real person appears in
  the docs (PRIVACY.md): the PETS still would show people.

The PNGs are reduced to a 256-colour palette and optimised (a few tens of KB each). Needs
Debian's Chromium and Playwright, as the browser tests do.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from accounts.users import UserStore  # noqa: E402
from history.aggregate import ZoneMinute  # noqa: E402
from history.store import open_store  # noqa: E402
from homography.fitting import calibrate_camera  # noqa: E402
from iconizer.types import CrowdingLevel  # noqa: E402
from station import load_layout  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STAFF = ("docs-staff", "docs staff password")
OPERATOR = ("docs-operator", "docs operator password")
DEMO = ROOT / "station_layouts" / "demo-station"
CAMERA = "gates-inside"
PX_PER_M = 24  # plan drawing resolution for the synthetic still


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def past_weeks(url: str, now_s: float, weeks: int = 3) -> None:
    """Three past weeks of quiet minutes around this time of day for every demo zone."""
    layout = load_layout(DEMO)
    store = open_store(url)
    rows = []
    for week in range(1, weeks + 1):
        centre = int(now_s - week * 7 * 86400) // 60 * 60
        for offset in range(-90 * 60, 90 * 60 + 1, 60):
            for zone in layout.zones:
                density = 0.04 + 0.02 * np.sin(offset / 1800.0) ** 2
                rows.append(
                    ZoneMinute(layout.station.id, zone.id, centre + offset, 3.0, 5, density, density * 1.5,
                               CrowdingLevel(0), "A", 60, 0)
                )  # fmt: skip
    store.write(rows)
    store.close()


def synthetic_still(camera_id: str = CAMERA) -> np.ndarray:
    """The demo floor as the camera would see it if the station were empty.

    A flat drawing of the plan (1 m floor tiles, obstacles, features, marks at the landmarks)
    seen through the camera's calibration.
    """
    layout = load_layout(DEMO)
    camera = layout.camera(camera_id)
    floor = layout.floor(camera.floor)
    width_m, height_m = floor.size_m
    plan = np.full((int(height_m * PX_PER_M), int(width_m * PX_PER_M), 3), (205, 212, 218), np.uint8)

    def poly(points, colour, thickness=-1):
        pts = (np.asarray(points, float) * PX_PER_M).round().astype(np.int32)
        if thickness < 0:
            cv2.fillPoly(plan, [pts], colour, lineType=cv2.LINE_AA)
        else:
            cv2.polylines(plan, [pts], True, colour, thickness, lineType=cv2.LINE_AA)

    for area in floor.walkable_m:
        poly(area, (226, 229, 232))
    for x in range(int(width_m) + 1):
        cv2.line(plan, (x * PX_PER_M, 0), (x * PX_PER_M, plan.shape[0]), (196, 200, 204), 1, cv2.LINE_AA)
    for y in range(int(height_m) + 1):
        cv2.line(plan, (0, y * PX_PER_M), (plan.shape[1], y * PX_PER_M), (196, 200, 204), 1, cv2.LINE_AA)
    colours = {"gates": (150, 150, 150), "stairs": (120, 140, 170), "escalator": (110, 130, 160),
               "shop": (170, 190, 215), "exit": (90, 160, 90), "elevator": (140, 140, 160),
               "other": (185, 185, 175)}  # fmt: skip
    for feature in floor.features:
        poly(feature.polygon_m, colours.get(feature.kind, (180, 180, 180)))
    for obstacle in floor.obstacles_m:
        poly(obstacle, (95, 100, 108))
    # Painted marks at the landmarks, as a station floor has (tactile paving ends, corner marks).
    for landmark in floor.landmarks:
        x, y = (np.asarray(landmark.point_m) * PX_PER_M).round().astype(int)
        cv2.circle(plan, (int(x), int(y)), 5, (30, 160, 220), -1, cv2.LINE_AA)
    calib = calibrate_camera(camera)
    image_to_plan_px = np.diag([PX_PER_M, PX_PER_M, 1.0]) @ calib.image_to_floor
    w, h = camera.resolution_wh
    return cv2.warpPerspective(
        plan, image_to_plan_px, (w, h), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT, borderValue=(90, 85, 80),
    )  # fmt: skip


def optimise(path: Path) -> None:
    """A 256-colour palette PNG, optimised: screenshots have few colours."""
    image = Image.open(path).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)


def browser_context(browser, width: int, height: int, lang: str, mobile: bool = False):
    """A Chromium context at a screen size and language."""
    return browser.new_context(
        locale="ja-JP" if lang == "ja" else "en-GB",
        viewport={"width": width, "height": height},
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=1,
    )


def shoot_demo(browser, out: Path, warmup_s: float) -> None:
    """The public map and the staff dashboard of the running simulated demo."""
    data = Path(tempfile.mkdtemp(prefix="crowdmap-docs-"))
    users = UserStore(data / "users.sqlite3")
    users.add(*STAFF, "staff")
    history = str(data / "history.sqlite3")
    past_weeks(history, time.time())
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-c", "from crowdmap.cli import main; main()", "demo", "--port", str(port),
         "--data-dir", str(data), "--history", history, "--duration", str(int(warmup_s + 240))],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        print(f"demo on {url}; letting the first trains arrive for {warmup_s:.0f} s", flush=True)
        time.sleep(warmup_s)
        # The map on a phone, Japanese, with a zone's callout open.
        context = browser_context(browser, 390, 844, "ja", mobile=True)
        page = context.new_page()
        page.goto(url + "/?lang=ja")
        page.wait_for_function("() => window.crowdmap && window.crowdmap.latest()", timeout=30_000)
        time.sleep(2)
        page.screenshot(path=str(out / "map-phone-ja.png"))
        page.evaluate("() => window.crowdmap.views.concourse.select('ticket-gates', null, false)")
        time.sleep(0.5)
        page.screenshot(path=str(out / "map-phone-callout-ja.png"))
        context.close()
        # The staff dashboard, on a desktop and on a phone.
        for name, (w, h, lang, mobile) in {
            "staff-desktop-en.png": (1366, 1500, "en", False), "staff-phone-ja.png": (390, 844, "ja", True),
        }.items():  # fmt: skip
            context = browser_context(browser, w, h, lang, mobile)
            page = context.new_page()
            page.goto(f"{url}/staff?lang={lang}")
            page.fill("#username", STAFF[0])
            page.fill("#password", STAFF[1])
            page.click("#login-submit")
            page.wait_for_function("() => window.crowdmapStaff && window.crowdmapStaff.loaded", timeout=30_000)
            time.sleep(3)
            page.screenshot(path=str(out / name))
            context.close()
    finally:
        demo.terminate()
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
        shutil.rmtree(data, ignore_errors=True)


def shoot_calibrator(browser, out: Path) -> None:
    """The calibration tool on a synthetic still of a demo camera, six landmarks clicked."""
    from werkzeug.serving import make_server

    from accounts.settings import AccountSettings
    from calibrator.app import create_app
    from calibrator.still import StillHolder
    from calibrator.target import CameraTarget

    data = Path(tempfile.mkdtemp(prefix="crowdmap-docs-cal-"))
    layout_dir = data / "demo-station"
    shutil.copytree(DEMO, layout_dir)
    UserStore(data / "users.sqlite3").add(*OPERATOR, "operator")
    still = synthetic_still()
    target = CameraTarget(layout_dir, CAMERA)
    app = create_app(
        AccountSettings(data_dir=data, cookie_secure=False),
        target=target,
        stills=StillHolder(lambda: still.copy(), tuple(target.camera.resolution_wh)),
    )
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        calib = calibrate_camera(target.camera)
        to_image = np.linalg.inv(calib.image_to_floor)
        context = browser_context(browser, 1366, 960, "en")
        page = context.new_page()
        page.goto(url + "/")
        page.fill("#username", OPERATOR[0])
        page.fill("#password", OPERATOR[1])
        page.click("#login-button")
        page.wait_for_selector("#image-view")
        page.wait_for_load_state("networkidle")
        to_screen = """([id, x, y]) => { const svg = document.getElementById(id); const p = svg.createSVGPoint();
            p.x = x; p.y = y; const s = p.matrixTransform(svg.getScreenCTM()); return [s.x, s.y]; }"""
        # Six landmarks the camera sees, clicked on the still and on the plan (a click near a
        # landmark takes its exact coordinates).
        names = ["Column D", "Column E", "Column F", "Ticket gates, north end", "Ticket gates, south end",
                 "Stairwell, north-west", "Stairwell, south-west"]  # fmt: skip
        landmarks = [lm for lm in target.floor.landmarks if any(lm.label.en.startswith(n) for n in names)]
        for landmark in landmarks:
            u, v, w = to_image @ np.array([*landmark.point_m, 1.0])
            page.mouse.click(*page.evaluate(to_screen, ["image-view", float(u / w), float(v / w)]))
            page.mouse.click(*page.evaluate(to_screen, ["plan-view", *map(float, landmark.point_m)]))
        try:
            page.wait_for_selector("#status.ok, #status.warn", timeout=30_000)
        except Exception:
            page.screenshot(path=str(out / "calibrator-failed.png"), full_page=True)
            print(page.evaluate("() => JSON.stringify(window.calibrator.state.pairs)"), page.inner_text("#status"))
            raise
        # Zoom the plan onto the part this camera sees, as an operator would.
        page.mouse.move(*page.evaluate(to_screen, ["plan-view", 56.0, 15.0]))
        page.mouse.wheel(0, -160)
        time.sleep(0.3)
        page.mouse.move(*page.evaluate(to_screen, ["plan-view", 52.5, 16.0]))
        time.sleep(0.5)
        page.screenshot(path=str(out / "calibrator-en.png"), full_page=True)
        context.close()
    finally:
        server.shutdown()
        shutil.rmtree(data, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Take, then optimise, every screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--warmup-s", type=float, default=70.0, help="seconds the demo runs before the shots")
    parser.add_argument("--only", choices=["demo", "calibrator"], help="take one group only")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            if args.only in (None, "calibrator"):
                shoot_calibrator(browser, args.out)
            if args.only in (None, "demo"):
                shoot_demo(browser, args.out, args.warmup_s)
        finally:
            browser.close()
    for path in sorted(args.out.glob("*.png")):
        optimise(path)
        print(f"{path}: {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
