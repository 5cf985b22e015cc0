"""A pytest plugin: with ``CROWDMAP_NO_SKIPS=1`` (set by CI), a skipped test or module is a failure.

Browser, Redis, PostgreSQL and onnxruntime tests skip on a developer's machine that lacks them; in
CI that would turn a missing install step into a green run that tested less. CI installs
everything, so there a skip means something is missing, and it must say so loudly.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

ENV = "CROWDMAP_NO_SKIPS"


def _strict() -> bool:
    return os.environ.get(ENV, "") not in ("", "0")


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _fail(report: pytest.CollectReport | pytest.TestReport) -> None:
    reason = _skip_reason(report)
    report.outcome = "failed"
    report.longrepr = f"skipped, but {ENV} is set (CI runs every test): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator[None, None, None]:
    outcome = yield
    report = outcome.get_result()
    # An expected failure also reports as skipped; only a real skip is a failure.
    if _strict() and report.skipped and not hasattr(report, "wasxfail"):
        _fail(report)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, None, None]:
    outcome = yield
    report = outcome.get_result()
    if _strict() and report.skipped:
        _fail(report)
