"""Stills through detector.sources, and ``crowdmap calibrate`` serving the real PETS video end to end."""

import os
import queue
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from accounts.users import UserStore
from calibrator.grab import frame_grabber, source_spec
from calibrator.still import StillError
from station import load_layout

ROOT = Path(__file__).resolve().parents[2]
VIDEO = str(ROOT / ".." / "shared" / "data" / "pets2009_s2l1" / "vtest.avi")


def test_grab_reads_the_first_frame_of_a_video(pets_frame):
    frame = frame_grabber(VIDEO, target_fps=10.0, resolution_wh=(768, 576))()
    assert frame.shape == (576, 768, 3)
    assert np.array_equal(frame, pets_frame)


def test_grab_resizes_like_the_detector_sees_it(pets_frame):
    frame = frame_grabber(VIDEO, target_fps=10.0, resolution_wh=(384, 288))()
    assert frame.shape == (288, 384, 3)
    expected = cv2.resize(pets_frame, (384, 288), interpolation=cv2.INTER_AREA)
    assert np.array_equal(frame, expected)


@pytest.mark.parametrize(
    ("spec", "message", "secret"),
    [
        ("/no/such/video.avi", "no such video file or image folder", None),
        ("usb:x", "usb source must be usb:N", None),
        # Port 9 (discard) on loopback refuses at once; the password must not reach the message.
        ("rtsp://admin:hunter2@127.0.0.1:9/stream", "cannot open 'rtsp://***@127.0.0.1:9/stream'", "hunter2"),
    ],
)
def test_grab_failures_name_the_source_without_credentials(spec, message, secret):
    with pytest.raises(StillError, match=re.escape(message)) as raised:
        frame_grabber(spec, target_fps=10.0, resolution_wh=(768, 576))()
    if secret is not None:
        assert secret not in str(raised.value)


@pytest.mark.parametrize(
    ("station", "camera", "video", "expected"),
    [
        ("station_layouts/pets2009", "view-001", VIDEO, VIDEO),
        ("station_layouts/pets2009", "view-001", None, StillError("reads '{video}'")),
        ("station_layouts/demo-station", "gates-inside", None, StillError("is simulated")),
        ("station_layouts/demo-station", "gates-inside", VIDEO, VIDEO),
    ],
)
def test_source_spec(station, camera, video, expected):
    cam = load_layout(station).camera(camera)
    if isinstance(expected, StillError):
        with pytest.raises(StillError, match=re.escape(str(expected))):
            source_spec(cam, video)
    else:
        assert source_spec(cam, video) == expected


@pytest.mark.slow
def test_crowdmap_calibrate_serves_the_pets_video_on_loopback(tmp_path, layout_dir):
    data_dir = tmp_path / "data"
    UserStore(data_dir / "users.sqlite3").add("olga", "operator-password-1", "operator")
    env = dict(os.environ, CROWDMAP_DATA_DIR=str(data_dir))
    command = [sys.executable, "-m", "crowdmap.cli", "calibrate", "--station", str(layout_dir)]
    command += ["--camera", "view-001", "--video", VIDEO, "--port", "0"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    try:
        url = None
        while url is None:
            line = lines.get(timeout=60)
            match = re.search(r"on (http://127\.0\.0\.1:\d+/) \(audit log: (.+)\)", line)
            if match:
                url = match.group(1)
                assert match.group(2) == str(data_dir / "calibration-audit.jsonl")
        with urllib.request.urlopen(url + "login", timeout=10) as response:
            assert response.status == 200
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "still.jpg", timeout=10)
        assert refused.value.code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
    # The tool wrote no image: its data folder holds only the accounts and the session secret.
    assert sorted(p.name for p in data_dir.iterdir()) == ["users.sqlite3", "web-secret-key"]
