"""Structured logs for the station processes: one JSON object per line, free of personal data.

What the runtime logs is already impersonal by construction: camera ids, counts, states, error
classes; never a frame, a position or a payload (PRIVACY.md P1-P3). This module adds two guards
on top, because a log line is the easiest place for something to leak by accident:

- credentials in URLs (``redis://user:password@host``) are masked;
- a message is cut at :data:`MAX_MESSAGE_CHARS`, so a payload that slips into an error text
  cannot be dumped whole.

Each line carries ``role`` (edge, aggregate, serve), ``station`` and, where set, ``camera``, so
logs of many processes can be merged and filtered.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

LOG_FORMATS = ("json", "text")
MAX_MESSAGE_CHARS = 400
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@")


def scrub(text: str) -> str:
    """``text`` with URL passwords masked and its length capped at :data:`MAX_MESSAGE_CHARS`."""
    text = _URL_CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 3] + "..."
    return text


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, role, station, camera, message.

    Args:
        context: Fields added to every line (e.g. ``{"role": "edge", "station": "demo-station"}``).
    """

    def __init__(self, context: dict[str, str] | None = None) -> None:
        super().__init__()
        self.context = dict(context or {})

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line: dict[str, Any] = {
            "t": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            **self.context,
            "msg": scrub(record.getMessage()),
        }
        camera = getattr(record, "camera", None)
        if camera is not None:
            line["camera"] = str(camera)
        if record.exc_info:
            # Tracebacks show code and exception text, not local values; still scrubbed and capped.
            line["exc"] = scrub(self.formatException(record.exc_info)[-MAX_MESSAGE_CHARS:])
        return json.dumps(line, ensure_ascii=False)


class ScrubbingFormatter(logging.Formatter):
    """The plain-text format with the same scrubbing as :class:`JsonFormatter`."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one scrubbed text line."""
        return scrub(super().format(record))


def configure_logging(*, level: str = "INFO", fmt: str = "json", context: dict[str, str] | None = None) -> None:
    """Send every log record of this process to stderr in the chosen format.

    Args:
        level: ``DEBUG``, ``INFO``, ``WARNING`` or ``ERROR``.
        fmt: ``json`` (one object per line, for log collectors) or ``text`` (for people).
        context: Fields repeated on every JSON line, e.g. role and station.

    Raises:
        ValueError: for an unknown format.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {LOG_FORMATS}, got {fmt!r}")
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter(context))
    else:
        prefix = " ".join(f"{key}={value}" for key, value in (context or {}).items())
        handler.setFormatter(ScrubbingFormatter(f"%(asctime)s %(levelname)s {prefix} %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
