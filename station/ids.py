"""The one identifier type of the station model: floors, zones, cameras and stations share it.

Ids travel on the bus and into URLs and CSS classes, so they are short, lower-case and plain.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ID_RE = re.compile(ID_PATTERN)

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def is_id(value: object) -> bool:
    """Whether ``value`` is a well-formed id (a string matching ``ID_PATTERN``)."""
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None
