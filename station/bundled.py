"""Finding a layout folder: a path on disk, or the name of a layout bundled in ``station_layouts/``."""

from __future__ import annotations

from pathlib import Path

from station.files import LayoutError, load_layout
from station.model import StationLayout
from station_layouts import LAYOUTS_DIR

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


def resolve_station_path(name_or_path: str | None) -> Path:
    """A layout folder from a path, or from the name of a bundled layout (the demo station if None).

    Raises:
        LayoutError: neither a folder nor a bundled layout.
    """
    if name_or_path is None:
        return bundled(DEFAULT_STATION)
    path = Path(name_or_path)
    if path.exists():
        return path
    try:
        return bundled(name_or_path)
    except FileNotFoundError as error:
        raise LayoutError(f"{name_or_path}: no such layout folder, and {error}") from None


def load_station_layout(name_or_path: str | None) -> StationLayout:
    """The validated layout of a station, by path or bundled name."""
    return load_layout(resolve_station_path(name_or_path))
