"""The camera still shown to the operator, held in memory only (PRIVACY.md P1).

A frame is grabbed through a callable (the runtime passes one built on ``detector.sources``),
checked against the camera's configured resolution, encoded to JPEG in memory and kept as
bytes until the next grab replaces it. Nothing here opens a file; the frame array itself is
dropped as soon as it is encoded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

JPEG_QUALITY = 90


class StillError(RuntimeError):
    """No usable still: the camera gave no frame, or one of the wrong size."""


@dataclass(frozen=True)
class Still:
    """One encoded camera still.

    Attributes:
        jpeg: The JPEG bytes (memory only).
        resolution_wh: Its size in pixels.
        grabbed_at: When it was grabbed, unix seconds.
    """

    jpeg: bytes
    resolution_wh: tuple[int, int]
    grabbed_at: float

    def __repr__(self) -> str:
        # Never let the bytes of an image reach a log line through a repr.
        return f"Still(resolution_wh={self.resolution_wh}, grabbed_at={self.grabbed_at}, jpeg=<{len(self.jpeg)} bytes>)"


def encode_still(frame_bgr: np.ndarray, resolution_wh: tuple[int, int], grabbed_at: float) -> Still:
    """Encode a BGR frame ``(H, W, 3)`` uint8 as a JPEG still, in memory.

    Raises:
        StillError: if the frame is not a BGR image of exactly ``resolution_wh``, or cannot be encoded.
    """
    frame = np.asarray(frame_bgr)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise StillError(f"expected a BGR uint8 frame (H, W, 3), got shape {frame.shape} and dtype {frame.dtype}")
    height, width = frame.shape[:2]
    if (width, height) != tuple(resolution_wh):
        raise StillError(
            f"the camera delivers {width}x{height} frames but its file says resolution_wh "
            f"{resolution_wh[0]}x{resolution_wh[1]}; fix resolution_wh before calibrating"
        )
    encoded, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not encoded:
        raise StillError("OpenCV could not encode the frame as JPEG")
    return Still(jpeg=buffer.tobytes(), resolution_wh=(width, height), grabbed_at=grabbed_at)


class StillHolder:
    """The latest still of one camera, grabbed on demand.

    Args:
        grab: Returns one BGR frame ``(H, W, 3)`` uint8 from the camera, or raises.
        resolution_wh: The camera's configured resolution; frames of another size are refused,
            because clicked pixels would not match the detector's.
        clock: Wall clock, unix seconds.
    """

    def __init__(
        self,
        grab: Callable[[], np.ndarray],
        resolution_wh: tuple[int, int],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._grab = grab
        self._resolution_wh = (int(resolution_wh[0]), int(resolution_wh[1]))
        self._clock = clock
        self._still: Still | None = None
        self._lock = threading.Lock()

    @property
    def resolution_wh(self) -> tuple[int, int]:
        """The camera's configured resolution."""
        return self._resolution_wh

    def refresh(self) -> Still:
        """Grab a new frame and make it the current still.

        Raises:
            StillError: the camera gave no frame or one of the wrong size (the old still is kept).
        """
        with self._lock:
            try:
                frame = self._grab()
            except StillError:
                raise
            except Exception as error:
                raise StillError(f"the camera gave no frame: {error}") from None
            if frame is None:
                raise StillError("the camera gave no frame")
            self._still = encode_still(frame, self._resolution_wh, self._clock())
            return self._still

    def current(self) -> Still:
        """The current still, grabbing the first one if there is none yet.

        Raises:
            StillError: if the first grab fails.
        """
        with self._lock:
            still = self._still
        return still if still is not None else self.refresh()
