"""Shared fixtures: the real PETS2009 camera, its ground-truth foot points, a calibration tool app."""

from __future__ import annotations

import csv
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from accounts.settings import AccountSettings
from accounts.users import UserStore
from calibrator.app import create_app
from calibrator.audit import AuditLog
from calibrator.still import StillHolder
from calibrator.target import CameraTarget

ROOT = Path(__file__).resolve().parents[2]
PETS_DIR = ROOT / ".." / "shared" / "data" / "pets2009_s2l1"
PETS_VIDEO = PETS_DIR / "vtest.avi"
PETS_GROUND = PETS_DIR / "ground_truth" / "gt_full_ground_dev.csv"
PETS_LAYOUT = ROOT / "station_layouts" / "pets2009"
CAMERA_ID = "view-001"
OPERATOR = ("olga", "operator-password-1")
STAFF = ("sam", "staff-password-12")
# Cheap argon2 parameters: the tests check the login flow, not the hash's cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass(frozen=True)
class GroundTruth:
    """PETS ground-truth foot points: pixels and plan metres (x = X + 16, y = 10 - Y)."""

    image_px: np.ndarray
    floor_m: np.ndarray


def load_ground_truth() -> GroundTruth:
    with open(PETS_GROUND, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    image = np.array([[float(r["foot_u_px"]), float(r["foot_v_px"])] for r in rows])
    floor = np.array([[float(r["ground_x_m"]) + 16.0, 10.0 - float(r["ground_y_m"])] for r in rows])
    return GroundTruth(image, floor)


def spread_indices(image_px: np.ndarray) -> list[int]:
    """Six well-spread ground-truth points: the four image corners of the cloud, its centre, and lower left."""
    u, v = image_px[:, 0], image_px[:, 1]
    targets = ((384.0, 288.0), (200.0, 450.0))
    return [
        int(np.argmin(u + v)),
        int(np.argmax(u + v)),
        int(np.argmin(u - v)),
        int(np.argmax(u - v)),
        *(int(np.argmin(np.abs(u - tu) + np.abs(v - tv))) for tu, tv in targets),
    ]


@pytest.fixture(scope="session")
def ground_truth() -> GroundTruth:
    return load_ground_truth()


@pytest.fixture(scope="session")
def six_pairs(ground_truth: GroundTruth) -> tuple[np.ndarray, np.ndarray]:
    idx = spread_indices(ground_truth.image_px)
    return ground_truth.image_px[idx], ground_truth.floor_m[idx]


@pytest.fixture(scope="session")
def pets_frame() -> np.ndarray:
    capture = cv2.VideoCapture(str(PETS_VIDEO))
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise RuntimeError(f"cannot read a frame of {PETS_VIDEO}")
    return frame


@pytest.fixture
def layout_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pets2009"
    shutil.copytree(PETS_LAYOUT, folder)
    return folder


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    store = UserStore(tmp_path / "users.sqlite3", hasher=FAST_HASHER)
    store.add(*OPERATOR, role="operator")
    store.add(*STAFF, role="staff")
    return store


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit" / "calibration-audit.jsonl")


def make_app(
    tmp_path: Path, layout_dir: Path, users: UserStore, audit: AuditLog, frame: np.ndarray, **settings: object
) -> Flask:
    web = AccountSettings(data_dir=tmp_path / "data", secret_key="s" * 40, **settings)  # type: ignore[arg-type]
    return create_app(
        web,
        target=CameraTarget(layout_dir, CAMERA_ID),
        stills=StillHolder(lambda: frame.copy(), (768, 576)),
        users=users,
        audit=audit,
    )


@pytest.fixture
def app(tmp_path: Path, layout_dir: Path, users: UserStore, audit: AuditLog, pets_frame: np.ndarray) -> Flask:
    return make_app(tmp_path, layout_dir, users, audit, pets_frame)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    if match is None:
        raise AssertionError("no CSRF token in the page")
    return match.group(1)


def log_in(client: FlaskClient, name: str, password: str) -> tuple[int, str]:
    """Log in through the form; returns the status and the calibration page's CSRF token ('' if refused)."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": name, "password": password, "csrf_token": token})
    if response.status_code != 302:
        return response.status_code, ""
    page = client.get("/")
    return response.status_code, csrf_from(page.get_data(as_text=True))


def pairs_body(image_px: np.ndarray, floor_m: np.ndarray) -> dict:
    return {
        "pairs": [
            {"image_px": list(map(float, i)), "floor_m": list(map(float, f))}
            for i, f in zip(image_px, floor_m, strict=True)
        ]
    }


@dataclass(frozen=True)
class Session:
    """A logged-in operator's test client and the CSRF token of their page."""

    client: FlaskClient
    csrf: str

    def post_json(self, path: str, body: object, **kwargs: object):
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.csrf}, **kwargs)


@pytest.fixture
def login():
    return log_in


@pytest.fixture
def as_body():
    return pairs_body


@pytest.fixture
def build_app(tmp_path: Path, layout_dir: Path, users: UserStore, audit: AuditLog, pets_frame: np.ndarray):
    def build(frame: np.ndarray | None = None, **settings: object) -> Flask:
        return make_app(tmp_path, layout_dir, users, audit, pets_frame if frame is None else frame, **settings)

    return build


@pytest.fixture
def operator(app: Flask) -> Session:
    client = app.test_client()
    status, token = log_in(client, *OPERATOR)
    if status != 302:
        raise RuntimeError(f"operator login failed with {status}")
    return Session(client, token)
