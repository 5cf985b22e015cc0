"""What every browser test of the web pages does with a page: watch it for errors, keep a screenshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def watched_page(context: Any) -> Any:
    """A new page of a Playwright ``context`` whose console errors and script errors collect in ``page.problems``.

    A CSP violation or a script error is a failure of the page, whatever the test checked: the fixtures
    that open pages assert ``page.problems`` is empty when the test ends.
    """
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    return page


def shot(page: Any, name: str) -> None:
    """A full-page screenshot in ``test-artifacts/NAME.png`` (CI keeps it for a reader)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
