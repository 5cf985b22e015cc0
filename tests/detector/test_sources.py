import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.sources import CameraSource, SourceError, open_source, redact

ROOT = Path(__file__).resolve().parents[2]
PETS_VIDEO = ROOT.parent / "shared" / "data" / "pets2009_s2l1" / "vtest.avi"


def test_file_source_delivers_every_frame_in_order_when_not_realtime() -> None:
    with open_source(str(PETS_VIDEO), realtime=False, target_fps=10) as source:
        frames = [source.read() for _ in range(5)]
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert frames[0].image_bgr.shape == (576, 768, 3)


def test_a_recording_read_in_order_is_stamped_with_its_own_time() -> None:
    # However fast or slow the reader (a detector on a fast or a slow machine), frames read in order
    # are one recording frame apart, counted from when the file was opened.
    clock = [1_000.0]
    with open_source(str(PETS_VIDEO), realtime=False, clock=lambda: clock[0]) as source:
        fps = source.native_fps
        stamps = []
        for step_s in (5.0, 0.0, 0.3):
            clock[0] += step_s
            stamps.append(source.read().timestamp_s)
    assert fps > 0
    assert np.allclose(np.diff(stamps), 1.0 / fps)
    assert stamps[0] == 1_000.0


def test_file_source_plays_live_and_hands_out_only_new_frames() -> None:
    with open_source(str(PETS_VIDEO), realtime=True, target_fps=100) as source:
        seen = []
        for _ in range(200):
            frame = source.read()
            if frame is not None:
                seen.append(frame.index)
            if len(seen) >= 3:
                break
            time.sleep(0.02)
        assert seen == sorted(set(seen)) and len(seen) >= 3
        assert source.health().state in ("live", "stalled")


def write_images(folder: Path, sizes: list[tuple[int, int]]) -> None:
    folder.mkdir()
    for i, (w, h) in enumerate(sizes):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((h, w, 3), 40 * i, np.uint8))


def test_folder_source_skips_corrupt_frames_and_reports_them(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    write_images(folder, [(64, 48), (64, 48)])
    (folder / "001b.png").write_bytes(b"not an image")
    with open_source(str(folder), realtime=False, resolution_wh=(64, 48)) as source:
        frames = [source.read(), source.read(), source.read()]
        health = source.health()
    assert [f is not None for f in frames] == [True, True, False]
    assert health.corrupt_frames == 1
    assert health.state == "dead" and "end of recording" in health.error
    assert health.error_code == "recording_ended"


def write_video(path: Path, frames: int, fps: float = 10.0) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for i in range(frames):
        writer.write(np.full((48, 64, 3), 80 * i, np.uint8))
    writer.release()


def test_a_looping_recording_plays_again_from_its_first_frame(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    write_video(video, frames=3)
    clock = [1_000.0]
    with open_source(str(video), realtime=False, loop=True, clock=lambda: clock[0]) as source:
        frames = [source.read() for _ in range(7)]
        health = source.health()
    # The pictures come round again; indexes and the recording's own time count on across the seam.
    assert [round(int(f.image_bgr[0, 0, 0]) / 80) for f in frames] == [0, 1, 2, 0, 1, 2, 0]
    assert [f.index for f in frames] == list(range(7))
    assert np.allclose(np.diff([f.timestamp_s for f in frames]), 0.1)
    assert health.state == "live" and health.error_code == ""


def test_a_looping_image_folder_plays_again(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    write_images(folder, [(64, 48), (64, 48)])
    with open_source(str(folder), realtime=False, loop=True) as source:
        frames = [source.read() for _ in range(5)]
    assert [int(f.image_bgr[0, 0, 0]) for f in frames] == [0, 40, 0, 40, 0]


def test_a_looping_recording_plays_again_live(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    write_video(video, frames=3, fps=50.0)
    with open_source(str(video), realtime=True, loop=True, target_fps=1000) as source:
        seen = []
        deadline = time.monotonic() + 10
        while len(seen) < 8 and time.monotonic() < deadline:
            frame = source.read()
            if frame is not None:
                seen.append(frame.index)
            time.sleep(0.005)
        health = source.health()
    # More frames than the file holds, so it played again; it never ended.
    assert max(seen) >= 3
    assert health.state in ("live", "stalled") and health.error_code != "recording_ended"


def test_a_looping_folder_with_no_readable_frame_still_ends(tmp_path: Path) -> None:
    # Looping a pass that gave nothing would spin forever: it ends as a recording does.
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "000.png").write_bytes(b"not an image")
    with open_source(str(folder), realtime=False, loop=True) as source:
        assert source.read() is None
        health = source.health()
    assert health.state == "dead" and health.error_code == "recording_ended"


def test_a_resolution_change_is_resized_back_and_reported(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    write_images(folder, [(64, 48), (128, 96)])
    with open_source(str(folder), realtime=False, resolution_wh=(64, 48)) as source:
        first, second = source.read(), source.read()
        health = source.health()
    assert first.image_bgr.shape == second.image_bgr.shape == (48, 64, 3)
    assert "128x96 differs from the configured 64x48" in health.error
    assert health.error_code == "resolution_changed"


@pytest.mark.parametrize(
    ("spec", "message"),
    [("/no/such/video.avi", "no such video file"), ("usb:front", "usb:N")],
)
def test_unopenable_sources_are_named(spec: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        open_source(spec)


def test_credentials_never_appear_in_texts() -> None:
    assert redact("cannot open rtsp://admin:secret@10.0.0.5/stream") == "cannot open rtsp://***@10.0.0.5/stream"


def test_a_frame_source_is_what_an_edge_reads_cameras_through() -> None:
    with open_source(str(PETS_VIDEO), realtime=False, target_fps=10) as source:
        assert isinstance(source, CameraSource)
    assert not isinstance(object(), CameraSource)
