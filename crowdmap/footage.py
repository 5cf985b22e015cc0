"""The footage demo's real camera: the bundled PETS2009 layout, its public clip, and the weights it needs.

``crowdmap demo --footage`` runs the simulated demo station and, beside it, the bundled
``pets2009`` station reading the PETS2009 S2.L1 View_001 recording (``vtest.avi``) through the
default detector. This module finds that clip and names the weights to fetch; it reads no frame.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from station import StationLayout

FOOTAGE_STATION = "pets2009"
# The repository's checkout: the data sets sit beside it in ``../shared/data`` (README, "Data and credits").
REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA_ENV = "CROWDMAP_SHARED_DATA"
PETS_CLIP = Path("pets2009_s2l1") / "vtest.avi"
# Debian's opencv-doc ships the same clip as an OpenCV sample, uncompressed (checked in 4.6.0+dfsg-12,
# bookworm: sha256 45cddc94..., the data set's copy byte for byte).
OPENCV_DOC_CLIP = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


class ClipNotFoundError(FileNotFoundError):
    """No PETS2009 clip where the demo looks; the message says how to get one, in one line."""


def shared_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The public data sets' folder: ``$CROWDMAP_SHARED_DATA``, else ``../shared/data`` beside the checkout."""
    override = environ.get(SHARED_DATA_ENV)
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


def find_clip(
    video: Path | None,
    *,
    environ: Mapping[str, str] = os.environ,
    opencv_doc_clip: Path | None = None,
) -> Path:
    """The PETS2009 clip to play: ``video`` if given, else the shared data's copy, else opencv-doc's.

    Args:
        video: A clip the user named (``--video``); it must exist, nothing else is tried then.
        environ: Where ``CROWDMAP_SHARED_DATA`` is read.
        opencv_doc_clip: Where the opencv-doc package puts the clip (default :data:`OPENCV_DOC_CLIP`).

    Returns:
        The clip's absolute path.

    Raises:
        ClipNotFoundError: the named clip does not exist, or no clip was found.
    """
    if video is not None:
        if not video.is_file():
            raise ClipNotFoundError(f"--video {video}: no such file")
        return video.resolve()
    shared = shared_data_dir(environ) / PETS_CLIP
    opencv_doc_clip = OPENCV_DOC_CLIP if opencv_doc_clip is None else opencv_doc_clip
    for candidate in (shared, opencv_doc_clip):
        if candidate.is_file():
            return candidate.resolve()
    raise ClipNotFoundError(
        f"no PETS2009 clip at {shared} or {opencv_doc_clip}: install it with `sudo apt-get install opencv-doc`, "
        f"or give a clip with --video PATH"
    )


def models_needed(layout: StationLayout) -> list[str]:
    """The cached weights the layout's cameras load: each camera's detector backend that has a model."""
    from detector import DEFAULT_BACKEND
    from detector.models import MODELS

    backends = [str(camera.detector.get("backend", DEFAULT_BACKEND)) for camera in layout.cameras]
    return [name for name in dict.fromkeys(backends) if name in MODELS]
