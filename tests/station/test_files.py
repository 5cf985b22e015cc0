"""Reading layout folders (``station.files``): YAML errors in one line, camera files, plan drawings."""

import copy
from pathlib import Path

import pytest
import yaml

from station import LayoutError, bundled, load_layout, load_station_layout, parse_layout, plan_image_path
from tests.station.test_layout import MINIMAL, changed

PETS = Path(__file__).resolve().parents[2] / "station_layouts" / "pets2009"


def write_layout(folder: Path, mapping: dict, cameras: list[dict] | None = None) -> Path:
    """``folder/layout.yaml`` with the layout's own cameras moved to ``cameras/<id>.yaml`` (or ``cameras``)."""
    data = copy.deepcopy(mapping)
    own = data.pop("cameras", [])
    (folder / "cameras").mkdir(parents=True, exist_ok=True)
    (folder / "layout.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for camera in own if cameras is None else cameras:
        (folder / "cameras" / f"{camera['id']}.yaml").write_text(yaml.safe_dump(camera), encoding="utf-8")
    return folder


def load_error(folder: Path) -> str:
    with pytest.raises(LayoutError) as raised:
        load_layout(folder)
    return str(raised.value)


@pytest.mark.parametrize("name", ["demo-station", "pets2009", "grand-central"])
def test_every_bundled_layout_loads(name: str) -> None:
    layout = load_station_layout(name)
    assert layout.station.id == name
    assert layout.cameras


def test_bundled_pets_layout_has_its_camera() -> None:
    layout = load_layout(PETS)
    assert len(layout.zones) >= 3
    assert [camera.id for camera in layout.cameras] == ["view-001"]


def test_a_folder_with_camera_files_loads_like_one_mapping(tmp_path: Path) -> None:
    layout = load_layout(write_layout(tmp_path, MINIMAL))
    assert [camera.id for camera in layout.cameras] == ["cam"]
    assert load_layout(tmp_path / "layout.yaml") == layout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "format_version: 1\nstation:\n  id: toy\n  name: {ja: 駅, en: Toy\nfloors: []\n",
            "layout.yaml:5:7: not valid YAML: while parsing a flow mapping, expected ',' or '}', but got ':'",
        ),
        (
            "floors: [unclosed",
            "layout.yaml:1:18: not valid YAML: while parsing a flow sequence, expected ',' or ']', "
            "but got '<stream end>'",
        ),
        (
            "station:\n  id: toy\n name: x\n",
            "layout.yaml:3:2: not valid YAML: while parsing a block mapping, expected <block end>, "
            "but found '<block mapping start>'",
        ),
        (
            "a: 1\n\tb: 2\n",
            "layout.yaml:2:1: not valid YAML: while scanning for the next token, found character '\\t' "
            "that cannot start any token",
        ),
    ],
)
def test_a_yaml_syntax_error_is_one_line_with_file_line_and_column(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "layout.yaml").write_text(content, encoding="utf-8")
    text = load_error(tmp_path)
    assert text == f"{tmp_path}/{expected}"
    assert "\n" not in text


def test_text_that_is_not_utf8_is_named_with_the_byte(tmp_path: Path) -> None:
    (tmp_path / "layout.yaml").write_bytes("station: Tôkyô\n".encode("latin-1"))  # an editor saving in Latin-1
    assert load_error(tmp_path) == f"{tmp_path / 'layout.yaml'}: not UTF-8 text: byte 10 (invalid continuation byte)"


def test_a_yaml_tag_that_would_run_code_is_refused(tmp_path: Path) -> None:
    (tmp_path / "layout.yaml").write_text("station: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    assert load_error(tmp_path) == (
        f"{tmp_path / 'layout.yaml'}:1:10: not valid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    )


def test_a_layout_file_may_be_given_by_any_name(tmp_path: Path) -> None:
    write_layout(tmp_path, MINIMAL)
    (tmp_path / "layout.yaml").rename(tmp_path / "toy-station.yaml")
    layout = load_layout(tmp_path / "toy-station.yaml")
    assert layout.station.id == "toy" and [camera.id for camera in layout.cameras] == ["cam"]


def test_a_mapping_checked_without_a_file_is_named_layout() -> None:
    with pytest.raises(LayoutError, match=r"^layout: format_version: expected 1, got 2$"):
        parse_layout(changed(["format_version"], 2))


@pytest.mark.parametrize(("content", "kind"), [("- just\n- a list\n", "list"), ("just words\n", "str")])
def test_a_layout_that_is_not_a_mapping_is_refused(tmp_path: Path, content: str, kind: str) -> None:
    (tmp_path / "layout.yaml").write_text(content, encoding="utf-8")
    assert load_error(tmp_path) == f"{tmp_path / 'layout.yaml'}: expected a mapping at the top level, got {kind}"


def test_a_missing_layout_is_named(tmp_path: Path) -> None:
    assert load_error(tmp_path) == f"{tmp_path / 'layout.yaml'}: no such layout file"


def test_an_unreadable_layout_is_named(tmp_path: Path) -> None:
    (tmp_path / "layout.yaml").mkdir()  # a folder where the file should be
    assert load_error(tmp_path) == f"{tmp_path / 'layout.yaml'}: cannot read: Is a directory"


def test_camera_file_errors_name_the_camera_file_and_field(tmp_path: Path) -> None:
    bad = dict(MINIMAL["cameras"][0], resolution_wh="hd")
    write_layout(tmp_path, MINIMAL, cameras=[bad])
    assert load_error(tmp_path) == (
        f"{tmp_path / 'cameras' / 'cam.yaml'}: resolution_wh: Input should be a valid tuple, got 'hd'"
    )


def test_a_camera_file_errors_name_list_items_by_index(tmp_path: Path) -> None:
    pairs = [{"image_px": [0, 0], "floor_m": [0, 0]}] * 3 + [{"image_px": [0, 0]}]
    bad = dict(MINIMAL["cameras"][0], calibration={"point_pairs": pairs})
    write_layout(tmp_path, MINIMAL, cameras=[bad])
    assert load_error(tmp_path) == (
        f"{tmp_path / 'cameras' / 'cam.yaml'}: calibration.point_pairs[3].floor_m: required field is missing"
    )


def test_a_camera_file_whose_id_differs_from_its_name_is_refused(tmp_path: Path) -> None:
    write_layout(tmp_path, MINIMAL, cameras=[dict(MINIMAL["cameras"][0], id="cam-2")])
    (tmp_path / "cameras" / "cam-2.yaml").rename(tmp_path / "cameras" / "cam.yaml")
    assert (
        load_error(tmp_path) == f"{tmp_path / 'cameras' / 'cam.yaml'}: id: expected 'cam' (the file name), got 'cam-2'"
    )


def test_a_camera_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    write_layout(tmp_path, MINIMAL, cameras=[])
    (tmp_path / "cameras" / "cam.yaml").write_text("- id: cam\n", encoding="utf-8")
    assert load_error(tmp_path) == f"{tmp_path / 'cameras' / 'cam.yaml'}: expected a mapping at the top level, got list"


def test_camera_files_and_layout_cameras_must_not_share_ids(tmp_path: Path) -> None:
    write_layout(tmp_path, MINIMAL)
    (tmp_path / "layout.yaml").write_text(yaml.safe_dump(MINIMAL, allow_unicode=True), encoding="utf-8")
    assert load_error(tmp_path) == f"{tmp_path / 'layout.yaml'}: cameras: ids must be unique, got duplicates ['cam']"


def test_a_camera_file_on_an_unknown_floor_names_the_camera(tmp_path: Path) -> None:
    write_layout(tmp_path, MINIMAL, cameras=[dict(MINIMAL["cameras"][0], floor="roof")])
    assert load_error(tmp_path) == (
        f"{tmp_path / 'layout.yaml'}: cameras[cam].floor: camera 'cam' is on floor 'roof', expected one of ['f1']"
    )


def test_a_plan_drawing_must_exist(tmp_path: Path) -> None:
    write_layout(tmp_path, changed(["floors", 0, "plan_image"], "plans/f1.svg"))
    assert load_error(tmp_path) == (
        f"{tmp_path / 'layout.yaml'}: floors[f1].plan_image: no such file {tmp_path / 'plans' / 'f1.svg'}"
    )
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "f1.svg").write_text("<svg/>", encoding="utf-8")
    layout = load_layout(tmp_path)
    assert plan_image_path(tmp_path, layout.floors[0]) == tmp_path / "plans" / "f1.svg"
    assert plan_image_path(tmp_path, layout.floors[0].model_copy(update={"plan_image": None})) is None


def test_an_unknown_bundled_name_lists_the_bundled_layouts() -> None:
    with pytest.raises(FileNotFoundError, match=r"no bundled layout 'nowhere'; bundled layouts are \[.*'pets2009'"):
        bundled("nowhere")
