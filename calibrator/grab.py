"""Grab one frame from a camera source for the calibration still, in memory.

The source is opened through ``detector.sources.open_source`` (files, rtsp://, usb:N, image
folders), read until it delivers a frame, and closed again, so the tool holds no camera while
the operator clicks. The frame is returned to the caller and never written anywhere.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import numpy as np

from calibrator.still import StillError
from homography.layout import Camera

DEFAULT_TIMEOUT_S = 15.0
_POLL_S = 0.05
_USERINFO = re.compile(r"(?<=://)[^/@]*@")


def redact(spec: str) -> str:
    """The source without the ``user:password@`` of a camera URL, for messages and logs."""
    return _USERINFO.sub("***@", spec)


def source_spec(camera: Camera, video: str | None) -> str:
    """The source to read for ``camera``: ``video`` when given, else the camera's own.

    Raises:
        StillError: for a simulated camera (it has no image) or a ``{video}`` source without a video.
    """
    if video:
        return video
    if camera.source == "sim":
        raise StillError(f"camera {camera.id!r} is simulated: it has no image to calibrate on; give --video PATH")
    if camera.source == "{video}":
        raise StillError(f"camera {camera.id!r} reads '{{video}}': give the video with --video PATH")
    return camera.source


def frame_grabber(
    spec: str,
    *,
    target_fps: float,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[], np.ndarray]:
    """A function that grabs one BGR frame from ``spec`` each time it is called.

    Args:
        spec: Source specification as in a camera file (path, rtsp://, usb:N, folder).
        target_fps: The camera's frame rate setting, passed to the source.
        timeout_s: How long to wait for the first frame.
        monotonic: Monotonic clock, seconds.
        sleep: Waits between polls.

    Returns:
        ``grab() -> (H, W, 3) uint8``, raising :class:`StillError` when no frame comes in time.
    """
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, got {timeout_s}")

    def grab() -> np.ndarray:
        from detector.sources import open_source

        try:
            source = open_source(spec, target_fps=target_fps, realtime=False)
        except Exception as error:
            raise StillError(f"cannot open {redact(spec)!r}: {redact(str(error))}") from None
        try:
            deadline = monotonic() + timeout_s
            while True:
                frame = source.read()
                if frame is not None:
                    return frame.image_bgr
                if monotonic() >= deadline:
                    health = source.health()
                    reason = f": {health.error}" if getattr(health, "error", None) else ""
                    raise StillError(f"no frame from {redact(spec)!r} within {timeout_s:g} s{reason}")
                sleep(_POLL_S)
        finally:
            source.close()

    return grab
