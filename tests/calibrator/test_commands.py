"""``crowdmap layout check`` and the argument checks of ``crowdmap calibrate``."""

import shutil

import numpy as np
import pytest
import yaml

from crowdmap.cli import main


def test_layout_check_prints_every_camera(capsys):
    assert main(["layout", "check", "station_layouts/demo-station"]) == 0
    out = capsys.readouterr().out
    for camera in (
        "concourse-west",
        "gates-inside",
        "gates-outside",
        "platform-east",
        "platform-stairs",
        "platform-west",
    ):
        assert camera in out
    assert "6 cameras ok" in out


def _write_point_pairs(layout_dir, image_px, floor_m):
    """Calibrate view-001 of ``layout_dir`` from these pairs."""
    camera_file = layout_dir / "cameras" / "view-001.yaml"
    camera = yaml.safe_load(camera_file.read_text())
    camera["calibration"] = {
        "point_pairs": [
            {"image_px": list(map(float, i)), "floor_m": list(map(float, f))}
            for i, f in zip(image_px, floor_m, strict=True)
        ]
    }
    camera_file.write_text(yaml.safe_dump(camera))


def test_layout_check_shows_pair_errors(layout_dir, six_pairs, capsys):
    image_px, floor_m = six_pairs
    _write_point_pairs(layout_dir, image_px, floor_m)
    assert main(["layout", "check", str(layout_dir)]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("view-001"))
    fields = row.split()
    assert fields[2:4] == ["point_pairs", "6"]
    rms_m = float(fields[4])
    assert 0.0 < rms_m < 0.1
    assert row.endswith("ok")


def test_layout_check_names_a_bad_camera(layout_dir, six_pairs, capsys):
    image_px, floor_m = six_pairs
    shifted = floor_m + np.array([[0, 0], [0, 0], [0, 0], [0, 0], [3, 0], [0, 0]])
    _write_point_pairs(layout_dir, image_px, shifted)
    assert main(["layout", "check", str(layout_dir)]) == 1
    captured = capsys.readouterr()
    assert "FAILED: camera 'view-001': fit error" in captured.out
    assert "1 of 1 cameras failed: view-001" in captured.err


def test_layout_check_of_a_broken_layout_exits_2(tmp_path, capsys):
    shutil.copytree("station_layouts/pets2009", tmp_path / "broken")
    (tmp_path / "broken" / "layout.yaml").write_text("format_version: 7\n")
    assert main(["layout", "check", str(tmp_path / "broken")]) == 2
    assert "format_version: expected 1, got 7" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--station", "station_layouts/pets2009", "--camera", "nope"], "no camera 'nope'"),
        (
            ["--station", "station_layouts/pets2009", "--camera", "view-001"],
            "reads '{video}': give the video with --video PATH",
        ),
        (["--station", "demo-station", "--camera", "gates-inside"], "is simulated: it has no image to calibrate on"),
    ],
)
def test_calibrate_refuses_what_it_cannot_show(args, message, capsys):
    assert main(["calibrate", *args]) == 2
    assert message in capsys.readouterr().err


def test_calibrate_needs_an_operator_account(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CROWDMAP_DATA_DIR", str(tmp_path / "data"))
    video = "../shared/data/pets2009_s2l1/vtest.avi"
    assert main(["calibrate", "--station", "station_layouts/pets2009", "--camera", "view-001", "--video", video]) == 2
    assert "no operator account" in capsys.readouterr().err
