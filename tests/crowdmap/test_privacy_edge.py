"""PRIVACY.md P1 and P5 at the edge, as an outsider checks them: real commands, real files, real sockets.

P1: a camera frame exists only in the memory of the edge process. A whole station run on the PETS
video must leave no image (nor a raw pixel dump) anywhere the processes could write: the working
directory, HOME, the temporary directory, the caches, the data folder.
P5: the edge side exposes nothing to the public network. The calibration tool and the ops endpoints
must listen on loopback when the operator gives no address.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.harness.localredis import free_port

ROOT = Path(__file__).resolve().parents[2]
CROWDMAP = Path(sys.executable).parent / "crowdmap"
VIDEO = ROOT.parent / "shared" / "data" / "pets2009_s2l1" / "vtest.avi"
PETS_LAYOUT = ROOT / "station_layouts" / "pets2009"

# Leading bytes of every image and array container a careless line of code could write.
IMAGE_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"\x93NUMPY": "NumPy array",
    b"P5": "PGM",
    b"P6": "PPM",
}
# A raw frame dump has no header; any file as large as one 768x576 grey frame is suspect.
RAW_FRAME_BYTES = 768 * 576


def image_files(root: Path, ignore: set[Path] = frozenset()) -> list[str]:
    """Every file under ``root`` that holds an image, an array or enough bytes for a raw frame."""
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or path in ignore:
            continue
        with path.open("rb") as handle:
            head = handle.read(16)
        kind = next((name for magic, name in IMAGE_MAGIC.items() if head.startswith(magic)), None)
        if kind is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            kind = "WebP"
        if kind is None and path.stat().st_size >= RAW_FRAME_BYTES:
            kind = f"{path.stat().st_size} bytes, a raw frame?"
        if kind is not None:
            found.append(f"{path.relative_to(root)} ({kind})")
    return found


def test_the_scanner_finds_what_it_looks_for(tmp_path: Path) -> None:
    frame = np.random.default_rng(0).integers(0, 255, (576, 768, 3), dtype=np.uint8)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "still.bin").write_bytes(cv2.imencode(".jpg", frame)[1].tobytes())
    (tmp_path / "b.png").write_bytes(cv2.imencode(".png", frame[:8, :8])[1].tobytes())
    np.save(tmp_path / "c.npy", frame[:2, :2])
    (tmp_path / "d.raw").write_bytes(frame.tobytes())
    (tmp_path / "log.txt").write_text("nothing to see\n")
    assert sorted(image_files(tmp_path)) == [
        "a/still.bin (JPEG)",
        "b.png (PNG)",
        "c.npy (NumPy array)",
        f"d.raw ({frame.nbytes} bytes, a raw frame?)",
    ]


def private_environment(root: Path, **extra: str) -> dict[str, str]:
    """An environment whose every writable default place lies under ``root``."""
    places = {name: root / name.lower() for name in ("HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_DATA_HOME")}
    for place in places.values():
        place.mkdir(parents=True)
    return {**os.environ, **{k: str(v) for k, v in places.items()}, "CROWDMAP_COOKIE_SECURE": "0", **extra}


@pytest.mark.slow
def test_a_station_run_on_real_video_writes_no_image_anywhere(tmp_path: Path, model_root: Path) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    data_dir = tmp_path / "data"
    port = free_port()
    env = private_environment(tmp_path, CROWDMAP_MODEL_DIR=str(model_root), CROWDMAP_DATA_DIR=str(data_dir))
    command = [str(CROWDMAP), "run", "--station", str(PETS_LAYOUT), "--video", str(VIDEO)]
    command += ["--port", str(port), "--duration", "120", "--data-dir", str(data_dir)]
    process = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dots_seen = 0
    try:
        deadline = time.monotonic() + 110
        while time.monotonic() < deadline and dots_seen < 5:
            try:
                url = f"http://127.0.0.1:{port}/api/v1/stations/pets2009/crowding"
                with urllib.request.urlopen(url, timeout=5) as response:
                    latest = json.load(response)
                if any(floor["dots"] for floor in latest["floors"]):
                    dots_seen += 1
            except OSError:
                pass
            time.sleep(1.0)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    # The run really decoded and detected frames: without dots the check below would prove nothing.
    assert dots_seen >= 5, output[-3000:]
    assert image_files(tmp_path) == []


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on ``port``, read from the kernel's tables."""
    found = set()
    for table, family in (("/proc/net/tcp", "v4"), ("/proc/net/tcp6", "v6")):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # The kernel prints each 32-bit word in host (little-endian) order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(socket.AF_INET if family == "v4" else socket.AF_INET6, words))
    return found


def wait_listening(port: int, process: subprocess.Popen, timeout_s: float) -> set[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        addresses = listening_addresses(port)
        if addresses:
            return addresses
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode} before listening: {process.stdout.read()[-2000:]}")
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s")


def test_listening_addresses_reads_the_kernel_tables() -> None:
    with socket.socket() as loopback, socket.socket() as everywhere:
        loopback.bind(("127.0.0.1", 0))
        loopback.listen()
        everywhere.bind(("0.0.0.0", 0))
        everywhere.listen()
        assert listening_addresses(loopback.getsockname()[1]) == {"127.0.0.1"}
        assert listening_addresses(everywhere.getsockname()[1]) == {"0.0.0.0"}


EDGE_SIDE_SERVERS = {
    "calibration tool": ["calibrate", "--station", str(PETS_LAYOUT), "--camera", "view-001", "--video", str(VIDEO)],
    "edge ops endpoints": ["edge", "--station", str(PETS_LAYOUT), "--camera", "view-001", "--video", str(VIDEO)],
    "aggregator ops endpoints": ["aggregate", "--station", str(PETS_LAYOUT)],
}


@pytest.mark.slow
@pytest.mark.parametrize("arguments", EDGE_SIDE_SERVERS.values(), ids=EDGE_SIDE_SERVERS.keys())
def test_edge_side_servers_listen_on_loopback_unless_told_otherwise(
    tmp_path: Path, arguments: list[str], local_redis, model_root: Path
) -> None:
    port = free_port()
    option = "--port" if arguments[0] == "calibrate" else "--ops-port"
    extra = [] if arguments[0] == "calibrate" else ["--redis", local_redis.url]
    env = private_environment(tmp_path, CROWDMAP_DATA_DIR=str(tmp_path / "data"), CROWDMAP_MODEL_DIR=str(model_root))
    if arguments[0] == "calibrate":  # the tool refuses to start without an operator account
        add = [str(CROWDMAP), "users", "add", "olga", "--role", "operator", "--password-stdin"]
        subprocess.run(add, input="operator-password-1\n", env=env, check=True, capture_output=True, text=True)
    process = subprocess.Popen(
        [str(CROWDMAP), *arguments, *extra, option, str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_listening(port, process, timeout_s=90) == {"127.0.0.1"}
    finally:
        process.terminate()
        process.communicate(timeout=30)
