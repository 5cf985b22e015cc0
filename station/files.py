"""Reading a station layout folder: ``parse_layout`` validates a mapping, ``load_layout`` reads files.

A layout is a folder::

    station_layouts/<station>/
        layout.yaml          station, notice, publishing, floors, zones
        cameras/<id>.yaml    one file per camera: source, floor, resolution, calibration

``parse_layout`` is pure; ``load_layout`` only reads the files and calls it. Every error names the
file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from station.errors import LayoutError, describe
from station.model import FORMAT_VERSION, Camera, Floor, StationLayout


def parse_layout(
    mapping: dict[str, Any], cameras: list[dict[str, Any]] | None = None, source: str = "layout"
) -> StationLayout:
    """Validate a layout mapping (and camera mappings, if kept separately).

    Raises:
        LayoutError: naming ``source`` and the offending field.
    """
    if not isinstance(mapping, dict):
        raise LayoutError(f"{source}: expected a mapping at the top level, got {type(mapping).__name__}")
    data = dict(mapping)
    if cameras:
        data["cameras"] = list(data.get("cameras", [])) + list(cameras)
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise LayoutError(f"{source}: format_version: expected {FORMAT_VERSION}, got {version!r}")
    try:
        return StationLayout.model_validate(data)
    except ValidationError as error:
        raise LayoutError(f"{source}: {describe(error, data)}") from None


def _read_yaml(path: Path) -> Any:
    try:
        data = path.read_bytes()  # PyYAML decodes (UTF-8, or UTF-16 with a byte order mark) and says where it fails
    except OSError as error:
        raise LayoutError(f"{path}: cannot read: {error.strerror}") from None
    try:
        return yaml.safe_load(data)
    except yaml.MarkedYAMLError as error:
        # PyYAML's own text spans several lines with a quoted excerpt; one line with the place is enough.
        # The scanner, parser and constructor always mark the problem.
        mark = error.problem_mark
        what = ", ".join(part for part in (error.context, error.problem) if part)
        raise LayoutError(f"{path}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {what}") from None
    except yaml.reader.ReaderError as error:
        raise LayoutError(f"{path}: not UTF-8 text: byte {error.position} ({error.reason})") from None


def load_layout(path: str | Path) -> StationLayout:
    """Read a layout folder (or a single ``layout.yaml``) and validate it.

    Camera files are validated one by one first, so an error names the camera's own file.
    """
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    layout_file = folder / "layout.yaml" if path.is_dir() else path
    if not layout_file.exists():
        raise LayoutError(f"{layout_file}: no such layout file")
    mapping = _read_yaml(layout_file)
    cameras = []
    for camera_file in sorted((folder / "cameras").glob("*.yaml")):
        camera = _read_yaml(camera_file)
        if not isinstance(camera, dict):
            raise LayoutError(f"{camera_file}: expected a mapping at the top level, got {type(camera).__name__}")
        try:
            Camera.model_validate(camera)
        except ValidationError as error:
            # A camera file has no list of items with ids today, so describe() would name the same
            # places without its data; passed so that a future one is named by id.
            raise LayoutError(f"{camera_file}: {describe(error, camera)}") from None  # pragma: no mutate
        if camera["id"] != camera_file.stem:
            raise LayoutError(f"{camera_file}: id: expected {camera_file.stem!r} (the file name), got {camera['id']!r}")
        cameras.append(camera)
    layout = parse_layout(mapping, cameras, source=str(layout_file))
    for floor in layout.floors:
        if floor.plan_image is not None and not (folder / floor.plan_image).is_file():
            raise LayoutError(f"{layout_file}: floors[{floor.id}].plan_image: no such file {folder / floor.plan_image}")
    return layout


def plan_image_path(layout_dir: str | Path, floor: Floor) -> Path | None:
    """The file of a floor's plan drawing, or None when the floor has none."""
    return None if floor.plan_image is None else Path(layout_dir) / floor.plan_image


def camera_to_mapping(camera: Camera) -> dict[str, Any]:
    """A camera as plain data, for writing back to its file."""
    return camera.model_dump(mode="json", exclude_none=True)
