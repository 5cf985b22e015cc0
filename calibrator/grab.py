"""Grab one frame from a camera source for the calibration still, in memory.

The source is opened through :func:`detector.sources.open_source` (files, rtsp://, usb:N, image
folders) with the camera's configured resolution, so the still has exactly the pixels the
detector gets; one frame is read and the source is closed again, so the tool holds no camera
while the operator clicks. The frame is returned to the caller and never written anywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from calibrator.still import StillError
from detector.sources import SourceError, open_source, redact
from station import Camera


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


def frame_grabber(spec: str, *, target_fps: float, resolution_wh: tuple[int, int]) -> Callable[[], np.ndarray]:
    """A function that grabs one BGR frame from ``spec`` each time it is called.

    Args:
        spec: Source specification as in a camera file (path, rtsp://, usb:N, folder).
        target_fps: The camera's frame rate setting, passed to the source.
        resolution_wh: The camera's configured size; the source resizes other frame sizes to it,
            as it does for the detector.

    Returns:
        ``grab() -> (H, W, 3) uint8``, raising :class:`StillError` (without credentials) when
        the source cannot be opened or gives no frame.
    """

    def grab() -> np.ndarray:
        try:
            # Not realtime: read one frame now, in this thread, instead of starting a reader.
            source = open_source(spec, target_fps=target_fps, realtime=False, resolution_wh=resolution_wh)
        except (SourceError, OSError, ValueError) as error:
            raise StillError(f"cannot open {redact(spec)!r}: {redact(str(error))}") from None
        try:
            frame = source.read()
            if frame is None:
                health = source.health()
                raise StillError(f"no frame from {redact(spec)!r}: {health.error or health.state}")
            return frame.image_bgr
        finally:
            source.close()

    return grab
