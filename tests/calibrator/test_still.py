"""PRIVACY.md P1: the still lives in memory only; it is never written, logged or shown without login."""

import logging
import os
import sys
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest

from calibrator.still import StillError, StillHolder, encode_still

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".ppm", ".pgm", ".tif", ".tiff", ".npy")
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"BM", b"GIF8", b"RIFF", b"\x93NUMPY")


class WriteRecorder:
    """Every file this process opens for writing, seen through Python's audit hooks (PEP 578).

    Audit hooks cannot be removed, so one hook is installed for the session and switched on and off.
    """

    active = False
    written: ClassVar[list[str]] = []

    @classmethod
    def hook(cls, event, args):
        if not cls.active:
            return
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            )
            if writing and path is not None:
                cls.written.append(os.fsdecode(path) if not isinstance(path, int) else f"fd:{path}")
        elif event in ("os.rename", "os.replace", "shutil.copyfile", "shutil.move"):
            cls.written.append(os.fsdecode(args[1]))


sys.addaudithook(WriteRecorder.hook)


@pytest.fixture
def recorder():
    WriteRecorder.written = []
    WriteRecorder.active = True
    yield WriteRecorder
    WriteRecorder.active = False


def files_under(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_whole_session_writes_no_image_anywhere(
    app, operator, recorder, tmp_path, six_pairs, as_body, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    # An image written through OpenCV's C code would not pass Python's open(): refuse it outright.
    monkeypatch.setattr(cv2, "imwrite", lambda *a, **k: pytest.fail("cv2.imwrite called"))
    before = files_under(tmp_path)

    still = operator.client.get("/still.jpg")
    assert still.status_code == 200
    assert operator.post_json("/api/still", {}).status_code == 200
    assert operator.client.get("/still.jpg?t=2").status_code == 200
    image_px, floor_m = six_pairs
    assert operator.post_json("/api/preview", as_body(image_px, floor_m)).status_code == 200
    assert operator.post_json("/api/save", as_body(image_px, floor_m)).status_code == 200
    recorder.active = False

    # The save wrote exactly the camera file, its backup and the audit line: no image file.
    assert recorder.written, "the save should have written the camera file"
    assert not [path for path in recorder.written if path.lower().endswith(IMAGE_SUFFIXES)]
    written_names = {Path(path).name for path in recorder.written}
    assert "view-001.yaml" in written_names or ".view-001.yaml.saving" in written_names
    assert "calibration-audit.jsonl" in written_names
    # Nothing new or changed under the test's folders holds image bytes.
    after = files_under(tmp_path)
    changed = {path: data for path, data in after.items() if before.get(path) != data}
    assert changed
    for path, data in changed.items():
        assert not data.startswith(IMAGE_MAGIC), path
        assert still.data[:64] not in data, path
    # And no log record carries the image.
    for record in caplog.records:
        message = record.getMessage()
        assert len(message) < 2000
        assert "\ufffd" not in message
        assert not any(isinstance(arg, bytes | bytearray | np.ndarray) for arg in (record.args or ()))


def test_still_never_leaves_without_login(app, operator):
    anonymous = app.test_client()
    for path in ("/still.jpg", "/still.jpg?t=1", "/api/state"):
        response = anonymous.get(path)
        assert response.status_code == 401
        assert not response.data.startswith(b"\xff\xd8")
    operator.client.post("/logout", data={"csrf_token": operator.csrf})
    response = operator.client.get("/still.jpg")
    assert response.status_code == 401
    assert not response.data.startswith(b"\xff\xd8")


def test_still_is_not_marked_cacheable(operator):
    response = operator.client.get("/still.jpg")
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["Pragma"] == "no-cache"
    assert "ETag" not in response.headers
    assert "Last-Modified" not in response.headers


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((480, 640, 3), np.uint8), "delivers 640x480 frames but its file says resolution_wh 768x576"),
        (np.zeros((576, 768), np.uint8), r"expected a BGR uint8 frame \(H, W, 3\)"),
        (np.zeros((576, 768, 3), np.float32), "dtype float32"),
    ],
)
def test_wrong_frames_are_refused(frame, message):
    with pytest.raises(StillError, match=message):
        encode_still(frame, (768, 576), 0.0)


def test_failed_grab_keeps_the_old_still(pets_frame):
    frames = [pets_frame, None]

    def grab():
        frame = frames.pop(0)
        if frame is None:
            raise OSError("rtsp stream closed")
        return frame

    holder = StillHolder(grab, (768, 576), clock=lambda: 42.0)
    first = holder.refresh()
    with pytest.raises(StillError, match="the camera gave no frame: rtsp stream closed"):
        holder.refresh()
    assert holder.current() is first
    assert first.grabbed_at == 42.0


def test_still_repr_hides_the_bytes(pets_frame):
    still = encode_still(pets_frame, (768, 576), 1.0)
    text = repr(still)
    assert "bytes>" in text
    assert len(text) < 120


def test_wrong_resolution_is_reported_to_the_operator(build_app, login, pets_frame):
    """A still of another size than the camera file's is refused with the reason, never stretched."""
    app = build_app(frame=cv2.resize(pets_frame, (640, 480)))
    client = app.test_client()
    assert login(client, "olga", "operator-password-1")[0] == 302
    response = client.get("/still.jpg")
    assert response.status_code == 503
    assert "delivers 640x480 frames but its file says resolution_wh 768x576" in response.get_json()["error"]
