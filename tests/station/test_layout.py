import copy
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import pytest
import yaml

from station import FRUIN_QUEUING_PER_M2, LayoutError, load_layout, parse_layout, plan_image_path

PETS = Path(__file__).resolve().parents[2] / "station_layouts" / "pets2009"

TEXT = {"ja": "テキスト", "en": "text"}
MINIMAL = {
    "format_version": 1,
    "station": {"id": "toy", "name": TEXT},
    "notice": {key: TEXT for key in ("operator", "purpose", "captured", "retention", "contact")},
    "floors": [
        {
            "id": "f1",
            "name": TEXT,
            "size_m": [10, 10],
            "walkable_m": [[[0, 0], [10, 0], [10, 10], [0, 10]]],
            "obstacles_m": [[[4, 4], [6, 4], [6, 6], [4, 6]]],
        }
    ],
    "zones": [
        {"id": "west", "floor": "f1", "name": TEXT, "kind": "walkway", "polygon_m": [[0, 0], [5, 0], [5, 10], [0, 10]]},
        {
            "id": "east",
            "floor": "f1",
            "name": TEXT,
            "kind": "queuing",
            "polygon_m": [[5, 0], [10, 0], [10, 10], [5, 10]],
        },
    ],
    "cameras": [
        {
            "id": "cam",
            "floor": "f1",
            "source": "sim",
            "resolution_wh": [640, 480],
            "calibration": {"image_to_floor": [[0.01, 0, 0], [0, 0.01, 0], [0, 0, 1]]},
        }
    ],
}


def changed(path: list, value: object) -> dict:
    """A copy of MINIMAL with one field replaced (value None deletes it)."""
    data = copy.deepcopy(MINIMAL)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("mapping", "expectation"),
    [
        (MINIMAL, does_not_raise()),
        (changed(["format_version"], 2), pytest.raises(LayoutError, match="format_version: expected 1, got 2")),
        (changed(["station", "colour"], "red"), pytest.raises(LayoutError, match=r"station.colour: Extra inputs")),
        (changed(["notice", "contact"], None), pytest.raises(LayoutError, match=r"notice.contact: Field required")),
        (
            changed(["notice", "purpose"], {"ja": " ", "en": "x"}),
            pytest.raises(LayoutError, match=r"notice.purpose.ja"),
        ),
        (changed(["floors", 0, "size_m"], [0, 10]), pytest.raises(LayoutError, match=r"floors.0.size_m")),
        (
            changed(["floors", 0, "walkable_m"], [[[0, 0], [20, 0], [20, 10]]]),
            pytest.raises(LayoutError, match="beyond the plan"),
        ),
        (
            changed(["zones", 0, "polygon_m"], [[0, 0], [5, 5], [5, 0], [0, 5]]),
            pytest.raises(LayoutError, match=r"zones.0.polygon_m.*not a valid polygon"),
        ),
        (changed(["zones", 1, "floor"], "f9"), pytest.raises(LayoutError, match="zone 'east' is on floor 'f9'")),
        (changed(["zones", 1, "id"], "west"), pytest.raises(LayoutError, match=r"duplicates \['west'\]")),
        (changed(["zones", 0, "kind"], "platform"), pytest.raises(LayoutError, match=r"zones.0.kind")),
        (
            changed(["zones", 0, "thresholds"], {"public_per_m2": [1.0, 0.5, 2.0]}),
            pytest.raises(LayoutError, match="strictly increasing"),
        ),
        (
            changed(["cameras", 0, "calibration"], {"max_error_m": 0.3}),
            pytest.raises(LayoutError, match="exactly one of point_pairs"),
        ),
        (changed(["cameras", 0, "resolution_wh"], [640, -1]), pytest.raises(LayoutError, match="resolution_wh")),
        (changed(["floors", 0, "size_m"], [6000, 10]), pytest.raises(LayoutError, match=r"floors.0.size_m.*5000 m")),
        (changed(["publishing"], {"coarsen_method": "jitter"}), does_not_raise()),
        (changed(["floors", 0, "plan_image"], "plans/f1.svg"), does_not_raise()),
        (
            changed(["floors", 0, "plan_image"], "../../etc/passwd.png"),
            pytest.raises(LayoutError, match=r"floors.0.plan_image.*inside the layout folder"),
        ),
        (
            changed(["floors", 0, "plan_image"], "plans/f1.pdf"),
            pytest.raises(LayoutError, match=r"floors.0.plan_image.*\.svg, \.png"),
        ),
        (changed(["floors", 0, "landmarks"], [{"label": TEXT, "point_m": [3, 4]}]), does_not_raise()),
        (
            changed(["floors", 0, "landmarks"], [{"label": TEXT, "point_m": [3, 14]}]),
            pytest.raises(LayoutError, match=r"landmarks\[0\] 'text' lies outside the plan"),
        ),
        (
            changed(["floors", 0, "landmarks"], [{"label": TEXT}]),
            pytest.raises(LayoutError, match=r"floors.0.landmarks.0.point_m: Field required"),
        ),
        (
            changed(["publishing"], {"coarsen_method": "blur"}),
            pytest.raises(LayoutError, match=r"publishing.coarsen_method"),
        ),
    ],
)
def test_parse_layout_names_the_field(mapping: dict, expectation) -> None:
    with expectation:
        parse_layout(mapping, source="toy.yaml")


def test_zone_defaults_follow_fruin_tables() -> None:
    layout = parse_layout(MINIMAL)
    east = next(zone for zone in layout.zones if zone.id == "east")
    assert east.los_bounds_per_m2 == FRUIN_QUEUING_PER_M2
    # Public scale: quiet up to LOS B, busy in C, crowded in D, very crowded from E.
    assert east.public_bounds_per_m2 == FRUIN_QUEUING_PER_M2[1:4]


def test_walkable_area_subtracts_obstacles() -> None:
    layout = parse_layout(MINIMAL)
    assert layout.floor("f1").walkable.area == pytest.approx(100 - 4)


def test_bundled_pets_layout_loads() -> None:
    layout = load_layout(PETS)
    assert layout.station.id == "pets2009"
    assert len(layout.zones) >= 3
    assert [camera.id for camera in layout.cameras] == ["view-001"]


def test_camera_file_errors_name_the_camera_file(tmp_path: Path) -> None:
    (tmp_path / "cameras").mkdir()
    (tmp_path / "layout.yaml").write_text(yaml.safe_dump(changed(["cameras"], [])), encoding="utf-8")
    bad = dict(MINIMAL["cameras"][0], resolution_wh="hd")
    (tmp_path / "cameras" / "cam.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(LayoutError, match=r"cameras/cam\.yaml: resolution_wh"):
        load_layout(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [("floors: [unclosed", "not valid YAML"), ("- just\n- a list\n", "expected a mapping")],
)
def test_broken_files_are_reported(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "layout.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(LayoutError, match=message):
        load_layout(tmp_path)


def test_missing_layout_is_reported(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="no such layout file"):
        load_layout(tmp_path)


def test_plan_image_must_exist_beside_the_layout(tmp_path: Path) -> None:
    mapping = changed(["floors", 0, "plan_image"], "plans/f1.svg")
    (tmp_path / "layout.yaml").write_text(yaml.safe_dump(mapping), encoding="utf-8")
    with pytest.raises(LayoutError, match=r"plan_image: no such file .*plans/f1\.svg"):
        load_layout(tmp_path)
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "f1.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    layout = load_layout(tmp_path)
    assert plan_image_path(tmp_path, layout.floor("f1")) == tmp_path / "plans" / "f1.svg"


def with_cell(cell_m: float, captured: dict | None = None) -> dict:
    data = changed(["publishing"], {"coarsen_m": cell_m})
    if captured is not None:
        data["notice"]["captured"] = captured
    return data


@pytest.mark.parametrize(
    ("mapping", "expectation"),
    [
        (with_cell(0.5), does_not_raise()),
        (with_cell(2.0), does_not_raise()),
        (with_cell(0.0), pytest.raises(LayoutError, match=r"coarsen_m is 0 m.*at least 0.5 m")),
        (with_cell(0.3), pytest.raises(LayoutError, match=r"coarsen_m is 0.3 m.*notice's 'captured' text")),
        (
            with_cell(
                0.3, {"ja": "位置は30cm単位に丸めて表示します。", "en": "Positions are shown to the nearest 0.3 m."}
            ),
            does_not_raise(),
        ),
        (
            with_cell(0.3, {"ja": "位置は丸めて表示します。", "en": "Positions are shown to the nearest 0.3 m."}),
            pytest.raises(LayoutError, match="both languages"),
        ),
        (
            with_cell(0.05, {"ja": "5cm", "en": "0.05 m"}),
            pytest.raises(LayoutError, match=r"down to 0.1 m"),
        ),
    ],
    ids=["default", "coarser", "zero", "finer-unannounced", "finer-announced", "one-language", "below-rounding"],
)
def test_coarsening_has_a_floor_unless_the_notice_states_a_finer_cell(mapping: dict, expectation) -> None:
    """Issue 11 item 3: a layout asking for (nearly) raw positions is refused at load."""
    with expectation:
        parse_layout(mapping, source="toy.yaml")
