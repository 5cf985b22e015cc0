"""Station layouts shipped with crowdmap (data only; see docs/LAYOUT_FORMAT.md)."""

from pathlib import Path

LAYOUTS_DIR = Path(__file__).resolve().parent
DEFAULT_STATION = "demo-station"


def bundled(name: str) -> Path:
    """The folder of a bundled layout, by station name.

    Raises:
        FileNotFoundError: listing the bundled layouts.
    """
    folder = LAYOUTS_DIR / name
    if not (folder / "layout.yaml").is_file():
        names = sorted(p.name for p in LAYOUTS_DIR.iterdir() if (p / "layout.yaml").is_file())
        raise FileNotFoundError(f"no bundled layout {name!r}; bundled layouts are {names}")
    return folder
