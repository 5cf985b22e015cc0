"""Station layouts shipped with crowdmap: data only (see docs/LAYOUT_FORMAT.md); ``station`` reads them."""

from pathlib import Path

LAYOUTS_DIR = Path(__file__).resolve().parent
