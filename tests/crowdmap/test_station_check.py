"""The station check the web tier gets: cameras fitted in a child process, coverage as floor geometry."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from shapely.geometry import Polygon

from crowdmap.station_check import check_in_subprocess, check_station
from webmap.plan_geometry import rings_to_geometry

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "station_layouts" / "demo-station"


def test_demo_station_cameras_and_their_union_coverage():
    check = check_station(DEMO, clock=5.0)
    assert check.station_id == "demo-station" and check.checked_at == 5.0 and check.ok
    assert [c.camera_id for c in check.cameras] == sorted(p.stem for p in (DEMO / "cameras").glob("*.yaml"))
    assert all(c.coverage_m2 and c.coverage_m2 > 0 for c in check.cameras)
    concourse = rings_to_geometry(check.covered_m["concourse"])
    # The union is at most the walkable floor, and at least the largest single camera's view.
    assert concourse.area <= 80 * 30
    assert concourse.area >= max(c.coverage_m2 for c in check.cameras if c.floor_id == "concourse") - 1.0


def test_a_broken_camera_is_reported_and_covers_nothing(tmp_path):
    import shutil

    layout = tmp_path / "demo"
    shutil.copytree(DEMO, layout)
    camera_file = layout / "cameras" / "platform-east.yaml"
    camera = yaml.safe_load(camera_file.read_text())
    camera["calibration"] = {"point_pairs": [{"image_px": [0, 0], "floor_m": [0, 0]}] * 3}
    camera_file.write_text(yaml.safe_dump(camera))
    check = check_station(layout)
    broken = next(c for c in check.cameras if c.camera_id == "platform-east")
    assert broken.error and "point pairs" in broken.error and broken.coverage_m2 is None
    assert not check.ok


def test_the_web_tier_gets_it_from_a_child_process():
    check = check_in_subprocess(DEMO)
    assert check is not None and check.station_id == "demo-station"
    # The same as fitting here (bar the clock).
    here = check_station(DEMO, clock=check.checked_at)
    assert check == here


def test_a_layout_that_does_not_load_gives_no_check(tmp_path, caplog):
    (tmp_path / "layout.yaml").write_text("format_version: 9\n")
    assert check_in_subprocess(tmp_path) is None
    assert "format_version" in caplog.text
    result = subprocess.run(
        [sys.executable, "-m", "crowdmap.station_check", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "format_version: expected 1" in result.stderr


def test_command_prints_json():
    result = subprocess.run(
        [sys.executable, "-m", "crowdmap.station_check", str(DEMO)], capture_output=True, text=True, check=True
    )
    data = json.loads(result.stdout)
    assert set(data) == {"station", "checked_at", "cameras", "covered_m"}
    assert Polygon(data["covered_m"]["concourse"][0][0]).area > 0


@pytest.mark.parametrize("argv", [[], ["a", "b"]])
def test_usage(argv, capsys):
    from crowdmap.station_check import main

    assert main(argv) == 2
    assert "usage" in capsys.readouterr().err
