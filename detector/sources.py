"""Camera sources: video files, RTSP/HTTP streams, USB devices and image folders, through OpenCV.

A source always hands out the newest frame and drops older ones, at most ``target_fps`` a
second. A live source reads in a background thread, reconnects with backoff when the stream
drops, and reports its state: ``live``, ``reconnecting``, ``stalled`` (connected, no new frame
lately) or ``dead`` (gave up, or a file ended; a file opened with ``loop`` plays again from its
start instead). Corrupt frames are skipped and counted; a frame
whose size differs from the camera's configured resolution is resized back to it, so the
calibration stays valid, and the change is reported.

Frames exist only in this process's memory: nothing here writes, logs or sends a frame
(PRIVACY.md P1). Log and error texts never contain a stream's credentials.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from bus.backoff import CAMERA_RECONNECT_S, Backoff

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
STALL_AFTER_S = 3.0
# What a source reports as wrong, as codes: the runtime sends these, never the free text, off the
# edge (iconizer.types.CAMERA_ERRORS holds the same codes with their fixed texts).
SOURCE_ERROR_CODES = (
    "",
    "stream_lost",
    "source_unavailable",
    "corrupt_frames",
    "resolution_changed",
    "no_new_frames",
    "recording_ended",
)
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def redact(text: str) -> str:
    """``text`` with any ``user:password@`` of a URL removed."""
    return _CREDENTIALS.sub("***@", text)


class SourceError(RuntimeError):
    """A source that cannot be opened at all (bad path, unknown scheme)."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame, in memory only.

    Attributes:
        image_bgr: ``(H, W, 3)`` uint8, OpenCV channel order, at the configured resolution.
        timestamp_s: Capture time, unix seconds.
        index: Frames read from this source before this one.
    """

    image_bgr: np.ndarray
    timestamp_s: float
    index: int


@dataclass(frozen=True)
class SourceHealth:
    """How a source is doing; the runtime turns it into a camera status."""

    state: str
    fps: float
    last_frame_age_s: float
    error: str
    frames: int
    corrupt_frames: int
    reconnects: int
    error_code: str = ""

    def __post_init__(self) -> None:
        if self.error_code not in SOURCE_ERROR_CODES:
            raise ValueError(f"error_code must be one of {SOURCE_ERROR_CODES}, got {self.error_code!r}")


@runtime_checkable
class CameraSource(Protocol):
    """What an edge worker reads a camera through (:class:`FrameSource`, or a test's own source)."""

    def read(self) -> Frame | None:
        """The newest frame not read before, or None when none arrived."""
        ...

    def health(self) -> SourceHealth:
        """How the camera is doing right now."""
        ...

    def close(self) -> None:
        """Stop reading and release the camera."""
        ...


class _Capture:
    """Something that yields frames: an OpenCV capture or an image folder."""

    def read(self) -> tuple[bool, np.ndarray | None]:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    @property
    def native_fps(self) -> float:
        return 0.0


class _OpenCVCapture(_Capture):
    def __init__(self, target: str | int) -> None:
        self._cap = cv2.VideoCapture(target)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(f"OpenCV cannot open {redact(str(target))!r}")

    def read(self) -> tuple[bool, np.ndarray | None]:
        return self._cap.read()

    def release(self) -> None:
        self._cap.release()

    @property
    def native_fps(self) -> float:
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        return fps if 0.0 < fps < 1000.0 else 0.0


class _FolderCapture(_Capture):
    def __init__(self, folder: Path) -> None:
        self._files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise SourceError(f"image folder {str(folder)!r} holds no images ({', '.join(IMAGE_SUFFIXES)})")
        self._next = 0

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self._next >= len(self._files):
            return False, None
        path = self._files[self._next]
        self._next += 1
        # A file that does not decode is a corrupt frame (ok=True, image None), not the end.
        return True, cv2.imread(str(path), cv2.IMREAD_COLOR)

    def release(self) -> None:
        self._next = len(self._files)


def _opener(spec: str) -> tuple[Callable[[], _Capture], bool]:
    """A function opening the capture, and whether the source is a finite recording."""
    if spec.startswith(("rtsp://", "rtsps://", "http://", "https://")):
        return (lambda: _OpenCVCapture(spec)), False
    if spec.startswith("usb:"):
        index = spec.removeprefix("usb:")
        if not index.isdigit():
            raise SourceError(f"usb source must be usb:N with a device number, got {spec!r}")
        return (lambda: _OpenCVCapture(int(index))), False
    path = Path(spec)
    if path.is_dir():
        return (lambda: _FolderCapture(path)), True
    if path.is_file():
        return (lambda: _OpenCVCapture(str(path))), True
    raise SourceError(f"no such video file or image folder: {spec!r} (or use rtsp://, http://, usb:N)")


def _valid_image(image: np.ndarray | None) -> bool:
    return (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.ndim == 3
        and image.shape[2] == 3
        and image.shape[0] > 0
        and image.shape[1] > 0
    )


class FrameSource:
    """The newest frame of one camera, with health reporting.

    Args:
        spec: A video file, image folder, ``rtsp://``/``http://`` URL or ``usb:N``.
        target_fps: At most this many frames a second are handed out.
        realtime: True: read in a background thread like a live camera (a file plays at its own
            frame rate) and hand out the newest frame. False: hand out every frame of a file in
            order, as fast as the caller asks (evaluation, tests), each stamped with the recording's
            own time from the moment it was opened (frame index / native fps), so the time between
            frames does not depend on how fast the caller is.
        resolution_wh: The camera's configured size; other frame sizes are resized to it.
        clock: Wall clock, unix seconds.
        loop: A video file or image folder starts again from its first frame when it ends, and
            the source stays ``live`` (a demo playing a recording); frame indexes and a
            recording's own time keep counting on. A pass that gave no frame at all ends it as
            without ``loop``. Streams and devices ignore it.
    """

    def __init__(
        self,
        spec: str,
        *,
        target_fps: float = 10.0,
        realtime: bool = True,
        resolution_wh: tuple[int, int] | None = None,
        clock: Callable[[], float] = time.time,
        loop: bool = False,
    ) -> None:
        if not target_fps > 0:
            raise ValueError(f"target_fps must be positive, got {target_fps}")
        self.spec = spec
        self.target_fps = float(target_fps)
        self.realtime = realtime
        self.resolution_wh = resolution_wh
        self.clock = clock
        self.loop = loop
        self._open, self._finite = _opener(spec)
        self._capture: _Capture | None = self._open()
        self._lock = threading.Lock()
        self._newest: Frame | None = None
        self._handed_index = -1
        self._frames = 0
        self._corrupt = 0
        self._reconnects = 0
        self._state = "live"
        self._error = ""
        self._error_code = ""
        self._last_frame_s = float("nan")
        self._last_handed_s = float("-inf")
        self._fps = 0.0
        self._opened_s = clock()
        self._frames_at_open = 0
        self._plays = 1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if realtime:
            self._thread = threading.Thread(target=self._run, name=f"source {redact(spec)}", daemon=True)
            self._thread.start()

    # ---- reading --------------------------------------------------------------------------

    def _decode_one(self) -> Frame | bool | None:
        """Read one frame: a Frame, None for a corrupt frame, False at the end of the stream."""
        capture = self._capture
        if capture is None:
            return False
        ok, image = capture.read()
        if not ok:
            return False
        if image is None or not _valid_image(image):
            self._corrupt += 1
            self._error = f"corrupt frame skipped ({self._corrupt} so far)"
            self._error_code = "corrupt_frames"
            return None
        if (
            self.resolution_wh is not None
            and image is not None
            and (image.shape[1], image.shape[0]) != tuple(self.resolution_wh)
        ):
            self._error_code = "resolution_changed"
            self._error = (
                f"frame size {image.shape[1]}x{image.shape[0]} differs from the configured "
                f"{self.resolution_wh[0]}x{self.resolution_wh[1]}; resized"
            )
            image = cv2.resize(image, tuple(self.resolution_wh), interpolation=cv2.INTER_AREA)
        now = self._stamp()
        if self._frames and now > self._last_frame_s:
            self._fps = 0.9 * self._fps + 0.1 / (now - self._last_frame_s)
        self._last_frame_s = now
        frame = Frame(image_bgr=image, timestamp_s=now, index=self._frames)
        self._frames += 1
        return frame

    def _stamp(self) -> float:
        """When the frame being decoded was seen: the wall clock, or a recording's own time."""
        native_fps = self._capture.native_fps if self._capture is not None else 0.0
        if self.realtime or not self._finite or native_fps <= 0:
            return self.clock()
        return self._opened_s + self._frames / native_fps

    def _run(self) -> None:
        native_fps = self._capture.native_fps if self._capture is not None else 0.0
        # A recording played "live" keeps its own pace; a stream delivers at its own pace anyway.
        pace_s = 1.0 / native_fps if self._finite and native_fps > 0 else 0.0
        backoff = Backoff(CAMERA_RECONNECT_S)
        while not self._stop.is_set():
            started = time.monotonic()
            result = self._decode_one()
            if isinstance(result, Frame):
                backoff.succeeded()
                with self._lock:
                    self._newest = result
                    self._state = "live"
            elif result is False:
                if self._finite and self._rewind():
                    continue
                if self._finite:
                    self._finish("dead", "end of recording", "recording_ended")
                    return
                self._reconnect(backoff.failed(time.monotonic()))
                continue
            if pace_s:
                self._stop.wait(max(0.0, pace_s - (time.monotonic() - started)))

    def _rewind(self) -> bool:
        """Open a looping recording again at its first frame; False when it must end instead.

        A pass without a single frame ends it: looping would spin on an empty or broken file.
        """
        if not self.loop or self._frames == self._frames_at_open:
            return False
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        try:
            self._capture = self._open()
        except SourceError as error:  # the file went away while it played
            log.warning("camera source %s cannot be played again: %s", redact(self.spec), redact(str(error)))
            return False
        self._frames_at_open = self._frames
        self._plays += 1
        log.info("camera source %s ended; playing it again (pass %d)", redact(self.spec), self._plays)
        return True

    def _reconnect(self, delay: float) -> None:
        with self._lock:
            self._state = "reconnecting"
            self._error = f"stream lost; reconnecting in {delay:g} s"
            self._error_code = "stream_lost"
        log.warning("camera source %s lost; reconnecting in %g s", redact(self.spec), delay)
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        if self._stop.wait(delay):
            return
        try:
            self._capture = self._open()
            self._reconnects += 1
        except SourceError as error:
            with self._lock:
                self._error = redact(str(error))
                self._error_code = "source_unavailable"

    def _finish(self, state: str, error: str, code: str) -> None:
        with self._lock:
            self._state = state
            self._error = error
            self._error_code = code
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def read(self) -> Frame | None:
        """The newest frame not handed out before, or None (none yet, too soon, or ended)."""
        now = self.clock()
        if now - self._last_handed_s < 1.0 / self.target_fps * 0.999 and self.realtime:
            return None
        if not self.realtime:
            while True:
                result = self._decode_one()
                if result is False and self._rewind():
                    continue
                if result is False:
                    self._finish("dead", "end of recording", "recording_ended")
                    return None
                if isinstance(result, Frame):
                    self._last_handed_s = now
                    return result
        with self._lock:
            frame = self._newest
            if frame is None or frame.index == self._handed_index:
                return None
            self._handed_index = frame.index
            self._newest = None  # drop our reference: the frame lives only as long as its user keeps it
        self._last_handed_s = now
        return frame

    @property
    def native_fps(self) -> float:
        """The recording's or stream's own frame rate; 0 when it does not say (image folders, some streams)."""
        capture = self._capture
        return capture.native_fps if capture is not None else 0.0

    def health(self) -> SourceHealth:
        """The source's state right now."""
        now = self.clock()
        with self._lock:
            state, error, code = self._state, self._error, self._error_code
        age = now - self._last_frame_s if self._frames else float("inf")
        if state == "live" and self._frames and age > STALL_AFTER_S and self.realtime:
            state = "stalled"
            error = error or f"no new frame for {age:.0f} s"
            code = code or "no_new_frames"
        return SourceHealth(
            state=state,
            fps=round(self._fps, 2),
            last_frame_age_s=max(0.0, age),
            error=redact(error),
            frames=self._frames,
            corrupt_frames=self._corrupt,
            reconnects=self._reconnects,
            error_code=code,
        )

    def close(self) -> None:
        """Stop reading and release the device or file."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        with self._lock:
            self._newest = None
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_source(
    spec: str,
    *,
    target_fps: float = 10.0,
    realtime: bool = True,
    resolution_wh: tuple[int, int] | None = None,
    clock: Callable[[], float] = time.time,
    loop: bool = False,
) -> FrameSource:
    """Open a camera source (see :class:`FrameSource`).

    Raises:
        SourceError: the source cannot be opened, naming it without credentials.
    """
    return FrameSource(
        spec, target_fps=target_fps, realtime=realtime, resolution_wh=resolution_wh, clock=clock, loop=loop
    )
