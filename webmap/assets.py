"""Install the browser assets that come from the npm registry: ``python -m webmap.assets install``.

The Socket.IO JavaScript client is pinned by ``webmap/frontend/package-lock.json`` (with integrity
hashes), installed with ``npm ci`` and copied into ``webmap/static/vendor/``, which git ignores:
the project never commits a copy and never loads it from a CDN.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
FRONTEND_DIR = PACKAGE_DIR / "frontend"
VENDOR_DIR = PACKAGE_DIR / "static" / "vendor"
# (file inside node_modules, name under static/vendor/)
ASSETS = (("socket.io-client/dist/socket.io.min.js", "socket.io.min.js"),)


class AssetError(RuntimeError):
    """npm is missing or failed, or an expected file is not in the installed package."""


def install(frontend_dir: Path = FRONTEND_DIR, vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Run ``npm ci`` in ``frontend_dir`` and copy the assets to ``vendor_dir``.

    Returns:
        The files written.

    Raises:
        AssetError: naming what is missing or the npm error.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError("npm is not installed; install Node.js and npm (Debian: apt-get install -y npm)")
    command = [npm, "ci", "--prefix", str(frontend_dir), "--ignore-scripts", "--no-audit", "--no-fund"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssetError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return copy_assets(frontend_dir, vendor_dir)


def copy_assets(frontend_dir: Path = FRONTEND_DIR, vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Copy the assets from ``frontend_dir/node_modules`` to ``vendor_dir``."""
    vendor_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source, name in ASSETS:
        path = frontend_dir / "node_modules" / source
        if not path.is_file():
            raise AssetError(f"{path} is missing after npm ci")
        target = vendor_dir / name
        shutil.copyfile(path, target)
        written.append(target)
    return written


def missing(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Asset names not yet installed under ``vendor_dir``."""
    return [name for _, name in ASSETS if not (vendor_dir / name).is_file()]


def main(argv: list[str] | None = None) -> int:
    """``python -m webmap.assets install|check``."""
    parser = argparse.ArgumentParser(prog="python -m webmap.assets", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["install", "check"])
    args = parser.parse_args(argv)
    if args.action == "install":
        try:
            for path in install():
                print(f"installed {path}")
        except AssetError as error:
            print(f"webmap.assets: {error}", file=sys.stderr)
            return 1
        return 0
    absent = missing()
    for name in absent:
        print(f"missing {VENDOR_DIR / name}: run python -m webmap.assets install", file=sys.stderr)
    return 1 if absent else 0


if __name__ == "__main__":
    sys.exit(main())
