"""``crowdmap layout check`` on broken layouts: one line naming file and field, exit 2; notices without a contact."""

import shutil
from pathlib import Path

import pytest
import yaml

from crowdmap.cli import main

PETS = Path(__file__).resolve().parents[2] / "station_layouts" / "pets2009"


@pytest.fixture
def pets(tmp_path: Path) -> Path:
    folder = tmp_path / "pets"
    shutil.copytree(PETS, folder)
    return folder


def edit(folder: Path, change) -> None:
    path = folder / "layout.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def check(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["layout", "check", str(folder)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_zone_outside_its_floor_fails_the_check(pets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(pets, lambda data: data["zones"][0].update(polygon_m=[[0, 0], [9, 0], [9, 29], [0, 29]]))
    code, out, err = check(pets, capsys)
    assert code == 2 and out == ""
    assert err == (
        f"crowdmap layout check: {pets / 'layout.yaml'}: zones[lawn].polygon_m: zone 'lawn' extends beyond its floor "
        "'ground' (0..28.0 x 0..28.0 m)\n"
    )


def test_a_yaml_syntax_error_is_one_line_with_its_place(pets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (pets / "layout.yaml").read_text(encoding="utf-8")
    (pets / "layout.yaml").write_text(text.replace("size_m: [28.0, 28.0]", "size_m: [28.0, 28.0"), encoding="utf-8")
    code, _, err = check(pets, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"crowdmap layout check: {pets / 'layout.yaml'}:")
    assert "not valid YAML: while parsing a flow sequence" in err


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda data: data["notice"].pop("contact_details"), "notice.contact_details: required field is missing"),
        (lambda data: data["notice"].pop("open_data"), "notice.open_data: required field is missing"),
        (lambda data: data["notice"].pop("data_requests"), "notice.data_requests: required field is missing"),
        (
            lambda data: data["notice"].update(contact_details={"email": "the station office"}),
            "notice.contact_details.email: must be an e-mail address",
        ),
    ],
)
def test_a_notice_the_public_cannot_act_on_is_refused(pets: Path, capsys, change, field: str) -> None:
    edit(pets, change)
    code, _, err = check(pets, capsys)
    assert code == 2
    assert f"{pets / 'layout.yaml'}: {field}" in err


def test_a_contact_on_an_example_domain_is_a_warning_not_a_failure(pets: Path, capsys) -> None:
    edit(
        pets,
        lambda data: data["notice"].update(contact_details={"email": "privacy@example.org", "phone": "03 1234 5678"}),
    )
    code, out, err = check(pets, capsys)
    assert code == 0 and "1 cameras ok" in out
    assert err == (
        "crowdmap layout check: warning: notice.contact_details.email 'privacy@example.org' is on a domain "
        "reserved for examples: it reaches nobody; put the station's real contact there before going live\n"
    )
    edit(pets, lambda data: data["notice"].update(contact_details={"email": "privacy@pets-station.jp"}))
    code, _, err = check(pets, capsys)
    assert code == 0 and err == ""


def test_each_camera_says_how_tall_people_look_and_whether_the_detector_finds_them(
    pets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = check(pets, capsys)
    assert code == 0
    lines = out.splitlines()
    assert "people and the detector:" in lines
    line = next(line for line in lines if line.startswith("  view-001: "))
    assert "people 41-131 px tall; nanodet reliable on" in line
    # Without tiles the far half of the view is below what the whole-frame pass finds: the check says so.
    camera_file = pets / "cameras" / "view-001.yaml"
    camera = yaml.safe_load(camera_file.read_text(encoding="utf-8"))
    camera_file.write_text(yaml.safe_dump({**camera, "detector": {"max_tiles": 0}}), encoding="utf-8")
    code, out, _ = check(pets, capsys)
    assert code == 0  # a warning for the operator, not a broken layout
    line = next(line for line in out.splitlines() if line.startswith("  view-001 "))
    assert line.startswith("  view-001 (detector out of range): people 41-131 px tall; nanodet reliable on 65%")
    assert "not on rows 106-" in line
