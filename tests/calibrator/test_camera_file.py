import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import yaml

from calibrator.audit import ENTRY_KEYS, AuditEntry, AuditLog
from calibrator.camera_file import camera_file_path, save_point_pairs, with_point_pairs
from station import LayoutError, load_layout

NOW = datetime(2026, 11, 28, 3, 0, 0, tzinfo=UTC)
IMAGE = np.array([[100.04, 200.06], [600.0, 210.0], [620.0, 500.0], [90.0, 480.0]])
FLOOR = np.array([[1.00049, 2.0], [12.0, 2.0], [12.0, 9.0], [1.0, 9.0]])


@pytest.mark.parametrize(
    ("camera_id", "ok"),
    [("view-001", True), ("cam_2", True), ("../layout", False), ("a/b", False), ("View", False), ("", False)],
)
def test_camera_ids_never_become_other_paths(tmp_path, camera_id, ok):
    if ok:
        assert camera_file_path(tmp_path, camera_id) == tmp_path / "cameras" / f"{camera_id}.yaml"
    else:
        with pytest.raises(LayoutError, match="camera id must match"):
            camera_file_path(tmp_path, camera_id)


def test_pairs_replace_a_matrix_and_round_like_the_page():
    camera = {
        "id": "c",
        "floor": "f",
        "source": "rtsp://cam",
        "resolution_wh": [768, 576],
        "target_fps": 5,
        "calibration": {"image_to_floor": np.eye(3).tolist(), "max_error_m": 0.3},
    }
    updated = with_point_pairs(camera, IMAGE, FLOOR)
    assert updated["calibration"]["max_error_m"] == 0.3
    assert "image_to_floor" not in updated["calibration"]
    assert updated["calibration"]["point_pairs"][0] == {"image_px": [100.0, 200.1], "floor_m": [1.0, 2.0]}
    assert {k: v for k, v in updated.items() if k != "calibration"} == {
        k: v for k, v in camera.items() if k != "calibration"
    }
    assert camera["calibration"]["image_to_floor"] == np.eye(3).tolist()  # the input is not changed


def test_pairs_keep_the_lens_of_a_camera_model():
    camera = yaml.safe_load(Path("station_layouts/demo-station/cameras/concourse-west.yaml").read_text())
    camera["calibration"]["camera_model"]["dist_coeffs"] = [-0.2, 0.01, 0.0, 0.0, 0.0]
    updated = with_point_pairs(camera, IMAGE, FLOOR)
    assert updated["calibration"]["camera_matrix"] == camera["calibration"]["camera_model"]["camera_matrix"]
    assert updated["calibration"]["dist_coeffs"] == [-0.2, 0.01, 0.0, 0.0, 0.0]
    assert "camera_model" not in updated["calibration"]


def test_save_keeps_comments_and_every_backup(layout_dir):
    original = (layout_dir / "cameras" / "view-001.yaml").read_bytes()
    first = save_point_pairs(
        layout_dir=layout_dir, camera_id="view-001", image_px=IMAGE, floor_m=FLOOR, now=NOW, note="by a"
    )
    second = save_point_pairs(
        layout_dir=layout_dir, camera_id="view-001", image_px=IMAGE, floor_m=FLOOR, now=NOW, note="by b"
    )
    # Two saves in the same second get two backups; the first holds the original bytes.
    assert first.backup_file.name == "view-001.20261128T030000Z.yaml"
    assert second.backup_file.name == "view-001.20261128T030000Z-2.yaml"
    assert first.backup_file.read_bytes() == original
    text = first.camera_file.read_text()
    assert text.startswith("# PETS2009 S2.L1 View_001")
    # Only the latest note is kept, never a growing pile of them.
    assert text.count("# calibration tool:") == 1
    assert "# calibration tool: by b" in text
    # Backups live outside the folder the layout loads cameras from.
    layout = load_layout(layout_dir)
    assert [camera.id for camera in layout.cameras] == ["view-001"]
    assert len(layout.camera("view-001").calibration.point_pairs) == 4
    assert not list((layout_dir / "cameras").glob(".*saving"))


def test_save_of_a_missing_camera_names_the_file(layout_dir):
    with pytest.raises(LayoutError, match=r"cameras/nope\.yaml: cannot read"):
        save_point_pairs(layout_dir=layout_dir, camera_id="nope", image_px=IMAGE, floor_m=FLOOR, now=NOW, note="x")


def entry(**changes):
    values = dict(
        time_utc="2026-11-28T03:00:00+00:00",
        user="olga",
        station="pets2009",
        camera="view-001",
        action="save_point_pairs",
        pair_count=6,
        old_kind="image_to_floor",
        old_rms_error_m=None,
        old_on_new_pairs_rms_m=0.03,
        new_rms_error_m=0.02,
        new_loo_rms_error_m=float("nan"),
        camera_file="cameras/view-001.yaml",
        backup_file="cameras/history/view-001.x.yaml",
    )
    values.update(changes)
    return AuditEntry(**values)


def test_audit_log_appends_one_json_line_per_entry(tmp_path):
    log = AuditLog(tmp_path / "deep" / "audit.jsonl")
    log.append(entry())
    log.append(entry(user="sam", pair_count=5))
    lines = (tmp_path / "deep" / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert tuple(first) == ENTRY_KEYS
    assert first["new_loo_rms_error_m"] is None  # NaN becomes null: the file stays strict JSON
    assert [e["user"] for e in log.read()] == ["olga", "sam"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pair_count": -1}, "pair_count must be >= 0"),
        ({"new_rms_error_m": float("inf")}, "new_rms_error_m must be finite"),
    ],
)
def test_audit_entries_validate(changes, message):
    with pytest.raises(ValueError, match=message):
        entry(**changes)


def test_unwritable_layout_is_refused_with_the_reason(layout_dir, monkeypatch):
    original = (layout_dir / "cameras" / "view-001.yaml").read_bytes()

    def refuse(source, target):
        raise PermissionError(13, "Permission denied", str(target))

    # Root may write anywhere, so a read-only folder cannot be made here: refuse the rename instead.
    monkeypatch.setattr("calibrator.camera_file.os.replace", refuse)
    with pytest.raises(LayoutError, match=r"view-001\.yaml: cannot write: Permission denied"):
        save_point_pairs(layout_dir=layout_dir, camera_id="view-001", image_px=IMAGE, floor_m=FLOOR, now=NOW, note="x")
    assert (layout_dir / "cameras" / "view-001.yaml").read_bytes() == original
    assert not list((layout_dir / "cameras").glob(".*saving"))
