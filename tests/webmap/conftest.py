"""Builders for webmap tests: the bundled station layouts, an app with cheap password hashing, frames."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from argon2 import PasswordHasher

from accounts.users import UserStore
from bus.codec import encode_camera_status, encode_station_frames
from iconizer.types import IconFrame, ZoneState
from station import StationLayout, load_layout
from tests.harness.localredis import free_port
from webmap import WebSettings, create_app, hub_of

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_795_000_000.0  # a fixed wall clock for the app under test
STAFF_PASSWORD = "staff password 1"
OPERATOR_PASSWORD = "operator password 1"


def load_station(name: str) -> StationLayout:
    return load_layout(ROOT / "station_layouts" / name)


@pytest.fixture(scope="session")
def demo_layout() -> StationLayout:
    return load_station("demo-station")


@pytest.fixture(scope="session")
def pets_layout() -> StationLayout:
    return load_station("pets2009")


def make_zone(zone_id: str, level: int = 0, density: float = 0.1, count: int = 1, stale: bool = False) -> ZoneState:
    los = "ABCDEF"[min(5, level + 1)] if not stale else "A"
    return ZoneState(zone_id, count, density, level, los, stale)


def make_frame(
    layout: StationLayout,
    floor_id: str,
    dots: Sequence[Sequence[float]] = (),
    moving: Sequence[bool] | None = None,
    levels: dict[str, int] | None = None,
    densities: dict[str, float] | None = None,
    stale: Sequence[str] = (),
    timestamp_s: float = NOW,
) -> IconFrame:
    """An icon frame for one floor of ``layout``: every zone of the floor, level 0 unless given."""
    levels = levels or {}
    densities = densities or {}
    dots_m = np.asarray(dots, dtype=float).reshape(-1, 2)
    moving_flags = np.ones(len(dots_m), bool) if moving is None else np.asarray(moving, bool)
    zones = tuple(
        make_zone(z.id, levels.get(z.id, 0), densities.get(z.id, 0.1), 1, z.id in stale)
        for z in layout.zones_on(floor_id)
    )
    return IconFrame(layout.station.id, floor_id, timestamp_s, dots_m, moving_flags, zones)


def frames_message(layout: StationLayout, frames: Sequence[IconFrame], timestamp_s: float = NOW) -> bytes:
    return encode_station_frames(layout.station.id, list(frames), timestamp_s)


def status_message(layout: StationLayout, status) -> bytes:
    return encode_camera_status(layout.station.id, status)


@pytest.fixture
def clock() -> list[float]:
    """A settable wall clock: ``clock[0]`` is now."""
    return [NOW]


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    # Cheap argon2 parameters: the tests check the flow, not the cost of the hash.
    store = UserStore(tmp_path / "users.sqlite3", hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    store.add("sam", STAFF_PASSWORD, "staff")
    store.add("ola", OPERATOR_PASSWORD, "operator")
    return store


@pytest.fixture
def settings(tmp_path: Path) -> WebSettings:
    return WebSettings(data_dir=tmp_path / "data", async_mode="threading", cookie_secure=True, login_max_fails=3)


@pytest.fixture
def web(settings, demo_layout, pets_layout, users, clock):
    """``(app, socketio, hub)`` serving the demo station and PETS2009."""
    app, sio = create_app(settings, layouts=[demo_layout, pets_layout], users=users, clock=lambda: clock[0])
    app.config["TESTING"] = True
    return app, sio, hub_of(app)


def csrf_from(html: str) -> str:
    """The CSRF token of a page: the login form's field, or the staff page's hidden inputs."""
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    if match is None:
        raise ValueError("no csrf_token field in the page")
    return match.group(1)


def login(client, name: str, password: str):
    page = client.get("/login", base_url="https://localhost")
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token},
        base_url="https://localhost",
        # Flask-WTF checks the Referer on HTTPS, as browsers send it for same-origin posts.
        headers={"Referer": "https://localhost/login"},
    )


class LiveServer:
    """``tests/webmap/live_server.py`` in a subprocess; ``send`` injects one bus message."""

    def __init__(
        self,
        port: int,
        data_dir: Path,
        history_url: str | None = None,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.port = port
        self.data_dir = data_dir
        self.history_url = history_url
        self.env = env
        self.log = log  # the server's standard error goes here when given
        self.url = f"http://localhost:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests" / "webmap" / "live_server.py"),
                str(self.port),
                str(self.data_dir),
                *([self.history_url] if self.history_url else []),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            env=None if self.env is None else {**os.environ, **self.env},
            stderr=None if self.log is None else open(self.log, "wb"),  # closed with the process
        )
        for _ in range(600):  # bounded wait for the port to answer (the camera checks run first)
            if self.process.poll() is not None:
                raise RuntimeError(f"live server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("live server did not answer /healthz")

    def send(self, raw: bytes) -> None:
        self.process.stdin.write(raw + b"\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


CHROMIUM = Path("/usr/bin/chromium")
BROWSER_STAFF_PASSWORD = "browser staff pw"
BROWSER_OPERATOR_PASSWORD = "browser operator pw"
# Zones of the demo station with weeks of quiet history at this time of day (the others have none).
USUAL_ZONES = {"concourse-west": 0.05}
USUAL_WEEKS = 3


def write_usual_history(url: str, layout: StationLayout, zones: dict[str, float], weeks: int, now_s: float) -> None:
    """Past weeks of quiet minutes around this weekday and time, so those zones have a usual value."""
    from history.aggregate import ZoneMinute
    from history.store import open_store
    from iconizer.types import CrowdingLevel

    store = open_store(url)
    minutes = []
    for week in range(1, weeks + 1):
        centre = int(now_s - week * 7 * 86400) // 60 * 60
        for offset in range(-60 * 60, 60 * 60 + 1, 60):
            for zone_id, density in zones.items():
                minutes.append(
                    ZoneMinute(layout.station.id, zone_id, centre + offset, 2.0, 3, density, density * 1.5,
                               CrowdingLevel(0), "A", 60, 0)
                )  # fmt: skip
    store.write(minutes)
    store.close()


@pytest.fixture(scope="session")
def browser_data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("web-data")
    users = UserStore(folder / "users.sqlite3", hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    users.add("sam", BROWSER_STAFF_PASSWORD, "staff")
    users.add("ola", BROWSER_OPERATOR_PASSWORD, "operator")
    return folder


@pytest.fixture(scope="session")
def browser_history_url(tmp_path_factory, demo_layout) -> str:
    url = str(tmp_path_factory.mktemp("history") / "history.sqlite3")
    write_usual_history(url, demo_layout, USUAL_ZONES, USUAL_WEEKS, time.time())
    return url


@pytest.fixture(scope="session")
def live_server(browser_data_dir, browser_history_url):
    """One real gevent server for the browser tests: every bundled station, a history store."""
    live = LiveServer(free_port(), browser_data_dir, browser_history_url)
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium through Playwright, headless (skips where either is missing)."""
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium (scripts/install.sh --dev installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def wm():
    """The builders above, for test modules (importlib mode cannot import conftest by name)."""
    import types

    return types.SimpleNamespace(
        make_frame=make_frame,
        make_zone=make_zone,
        frames_message=frames_message,
        status_message=status_message,
        login=login,
        csrf_from=csrf_from,
        load_station=load_station,
        NOW=NOW,
        ROOT=ROOT,
        STAFF_PASSWORD=STAFF_PASSWORD,
        OPERATOR_PASSWORD=OPERATOR_PASSWORD,
        LiveServer=LiveServer,
        free_port=free_port,
        BROWSER_STAFF_PASSWORD=BROWSER_STAFF_PASSWORD,
        BROWSER_OPERATOR_PASSWORD=BROWSER_OPERATOR_PASSWORD,
        USUAL_ZONES=USUAL_ZONES,
    )
