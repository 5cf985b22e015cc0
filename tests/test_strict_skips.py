"""CI must not pass by skipping: under CROWDMAP_NO_SKIPS a skipped test or module fails the run."""

import os
from pathlib import Path

import pytest

SKIPPING = """
import pytest

pytestmark = pytest.mark.skipif(True, reason="needs Debian's chromium")

def test_page():
    pass
"""
MODULE_SKIP = """
import pytest

pytest.importorskip("a_module_nobody_installs")

def test_uses_it():
    pass
"""
SKIP_IN_BODY = """
import pytest

def test_needs_redis():
    pytest.skip("needs the Redis server")
"""
ROOT = Path(__file__).resolve().parents[1]
XFAIL = """
import pytest

@pytest.mark.xfail(reason="known", strict=True)
def test_known():
    assert False
"""


@pytest.mark.parametrize(
    ("source", "strict", "expected"),
    [
        (SKIPPING, "1", {"errors": 1}),
        (SKIP_IN_BODY, "1", {"failed": 1}),
        (SKIP_IN_BODY, "", {"skipped": 1}),
        (SKIPPING, "", {"skipped": 1}),
        (MODULE_SKIP, "1", {"errors": 1}),
        (MODULE_SKIP, "0", {"skipped": 1}),
        (XFAIL, "1", {"xfailed": 1}),
    ],
    ids=[
        "mark-strict",
        "body-strict",
        "body-lenient",
        "mark-lenient",
        "module-strict",
        "module-lenient",
        "xfail-is-not-a-skip",
    ],
)
def test_skips_fail_only_when_ci_asks(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, source: str, strict: str, expected: dict
) -> None:
    monkeypatch.setenv("CROWDMAP_NO_SKIPS", strict)
    # The probe runs in its own folder: the plugin is imported from this checkout, however pytest was started.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])))
    pytester.makepyfile(test_probe=source)
    result = pytester.runpytest_subprocess("-p", "tests.harness.strict_skips", "-p", "no:cacheprovider")
    result.assert_outcomes(**expected)
    if strict == "1" and "xfail" not in source:
        result.stdout.fnmatch_lines(["*skipped, but CROWDMAP_NO_SKIPS is set*"])
