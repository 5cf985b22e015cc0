"""The data flow of DESIGN.md, enforced: imports point one way, and the web tier never loads image code."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {
    "arrays",
    "station",
    "bus",
    "accounts",
    "detector",
    "homography",
    "iconizer",
    "history",
    "webmap",
    "simulator",
    "calibrator",
    "crowdmap",
    "station_layouts",
}

# Which project packages each package may import (itself always).
# The station model sits below every stage: each may read it, it reads none of them.
ALLOWED = {
    "arrays": set(),
    "accounts": set(),
    "station": {"station_layouts"},
    "detector": set(),
    "homography": {"station"},
    "iconizer": {"station", "homography"},
    "history": {"station", "homography", "iconizer"},
    "bus": {"station", "homography", "iconizer"},
    "webmap": {"station", "homography", "iconizer", "bus", "accounts"},
    "simulator": {"station", "homography", "detector"},
    "calibrator": {"station", "homography", "detector", "accounts"},
    "crowdmap": PROJECT,
}
# Leaf modules any package may import: the standard library only, nothing of the project. The one
# backoff lives in the bus (most retries are bus reconnects), yet the detector's camera reconnects
# and the runtime's restarts use it too.
LEAF_MODULES = {"bus.backoff"}
# Below everything, like the station model: the one validator of the stages' numpy arrays. Every
# package may import it; it imports numpy and the standard library only.
BASE_PACKAGES = {"arrays"}
# Third-party modules a package must never import.
FORBIDDEN = {
    "station": {"cv2", "torch", "torchvision", "flask", "socketio", "redis", "PIL", "numpy"},
    "accounts": {"cv2", "torch", "torchvision", "PIL", "numpy"},
    "homography": {"torch", "torchvision", "flask", "socketio", "redis"},
    "iconizer": {"cv2", "torch", "torchvision", "flask", "socketio", "redis", "PIL"},
    "history": {"cv2", "torch", "torchvision", "PIL"},
    "webmap": {"cv2", "torch", "torchvision", "PIL", "imageio", "skimage"},
    "bus": {"cv2", "torch", "torchvision", "flask", "socketio", "PIL"},
}


def imported_modules(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names if alias.name not in LEAF_MODULES}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module not in LEAF_MODULES:
                    names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package: str) -> None:
    allowed = ALLOWED[package] | {package} | BASE_PACKAGES
    forbidden = FORBIDDEN.get(package, set())
    problems = []
    for path, names in imported_modules(package).items():
        for name in sorted(names & PROJECT - allowed):
            problems.append(f"{path} imports {name}")
        for name in sorted(names & forbidden):
            problems.append(f"{path} imports {name}, which {package} must never use")
    assert problems == []


WEB_PROCESS_IMPORTS = {
    # What crowdmap.webproc.web_main imports: the embedded station's web process.
    "embedded web process": "import crowdmap.webproc, webmap.app, webmap.settings, station, "
    "history.source, history.store, bus.codec",
    # The CLI as `crowdmap serve` builds it, then what its handler imports.
    "crowdmap serve": "import crowdmap.cli as cli; cli.build_parser('serve'); import crowdmap.station, "
    "bus.redis_subscribers, crowdmap.tiers.relay, crowdmap.tiers.ops, crowdmap.tiers.serve_process, "
    "webmap.app, history.source",
}


@pytest.mark.parametrize("imports", WEB_PROCESS_IMPORTS.values(), ids=WEB_PROCESS_IMPORTS.keys())
def test_a_web_process_loads_no_detector_and_no_image_library(imports: str) -> None:
    probe = (
        f"import sys; {imports}; "
        "bad = ('detector', 'cv2', 'torch', 'torchvision', 'PIL', 'simulator'); "
        "print(','.join(m for m in bad if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("module", sorted(LEAF_MODULES))
def test_a_leaf_module_imports_the_standard_library_only(module: str) -> None:
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    assert names - {"__future__"} <= set(sys.stdlib_module_names)


@pytest.mark.parametrize("package", sorted(BASE_PACKAGES))
def test_a_base_package_imports_numpy_and_the_standard_library_only(package: str) -> None:
    names = set().union(*imported_modules(package).values())
    assert names - {"__future__", "numpy"} <= set(sys.stdlib_module_names)


def test_every_retry_loop_uses_the_one_backoff() -> None:
    # A table of delays written anywhere else is a second backoff.
    tables = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in {".venv", "tests"} or path == ROOT / "bus" / "backoff.py":
            continue
        text = path.read_text(encoding="utf-8")
        tables += [f"{path.relative_to(ROOT)}: {line.strip()}" for line in text.splitlines() if "BACKOFF_S =" in line]
    assert tables == []


def test_the_calibrator_never_imports_the_publishing_tier() -> None:
    """The edge-side tool shares the accounts package with the web tier, never the web tier itself."""
    problems = [f"{path} imports webmap" for path, names in imported_modules("calibrator").items() if "webmap" in names]
    assert problems == []
    probe = "import sys; import calibrator.app, calibrator.views; print('webmap' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


STAGES = {"detector", "homography", "iconizer", "webmap"}


def test_only_the_composition_root_imports_every_stage() -> None:
    """DESIGN.md: the thin runtime is the only code that imports every stage; no other package wires them."""
    wiring = []
    for package in sorted(PROJECT - {"crowdmap"}):
        if not (ROOT / package).is_dir():
            continue
        imported = set().union(*imported_modules(package).values())
        if STAGES <= imported | {package}:
            wiring.append(package)
    assert wiring == []
    assert STAGES <= set().union(*imported_modules("crowdmap").values())


def test_onnxruntime_runs_with_its_telemetry_off_wherever_it_is_loaded() -> None:
    # Issue 11 item 11: the product never loads onnxruntime; benchmarks and tests that do turn its
    # telemetry off right after importing it.
    problems = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.parts[len(ROOT.parts)] == ".venv" or path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8")
        loads = text.count("import onnxruntime") + text.count('importorskip("onnxruntime")')
        if loads and text.count("disable_telemetry_events()") < loads:
            problems.append(f"{path.relative_to(ROOT)} loads onnxruntime {loads}x without disable_telemetry_events()")
    assert problems == []


# Seconds carry their unit: an instant is ``*_s`` on the epoch clock (``timestamp_s``, ``now_s``),
# docs/ARCHITECTURE.md. The wire and public schemas keep the keys outside checks rely on.
UNITLESS_TIME_NAMES = {"timestamp", "t_s", "at", "ts"}
# Names that are a time only when they hold a number of seconds (a datetime may be ``now``).
UNITLESS_WHEN_FLOAT = {"now", "when", "t"}
SCHEMA_FILES = {"bus/schema.py", "webmap/schemas.py"}


def _float_annotation(annotation: ast.expr | None) -> bool:
    return isinstance(annotation, ast.Name) and annotation.id == "float"


def test_time_names_carry_their_unit() -> None:
    problems = []
    for package in sorted(PROJECT - {"station_layouts"}):
        for path in (ROOT / package).rglob("*.py"):
            relative = str(path.relative_to(ROOT))
            if relative in SCHEMA_FILES:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.arg):
                    name, annotation = node.arg, node.annotation
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    name, annotation = node.target.id, node.annotation
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    name, annotation = node.id, None
                else:
                    continue
                if name in UNITLESS_TIME_NAMES or (name in UNITLESS_WHEN_FLOAT and _float_annotation(annotation)):
                    problems.append(f"{relative}:{node.lineno} {name}")
    assert problems == []
