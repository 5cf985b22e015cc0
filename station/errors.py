"""Layout errors a person can act on: one line each, the file, and the field by its path of ids.

pydantic reports a location as indexes (``floors.0.size_m``) and a message with its own prefixes
(``Value error, ...``). An operator editing ``layout.yaml`` thinks in ids, so a location becomes
``floors[concourse].size_m``: list items with an ``id`` are named by it, other items by their index.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from station.ids import ID_PATTERN

# Shown at most; the rest are counted. One mistake (a wrong indent) can produce dozens.
MAX_ERRORS_SHOWN = 5
ID_RULE = "must be an id: 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit"
# Plain words for pydantic's error types whose own message reads like a library talking.
_PLAIN = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field (not part of the layout format)",
}


class LayoutError(ValueError):
    """A layout file is missing, unreadable or invalid; the message names file and field."""


class FieldError(ValueError):
    """A validation failure inside a model about one of its fields, below the model's own location.

    Raised by model-level validators (which pydantic locates at the model itself) so the message
    still names the field: ``FieldError("walkable_m[0]", "extends beyond the plan")`` on a floor
    reads ``floors[concourse].walkable_m[0]: extends beyond the plan``.

    Args:
        path: Location of the field relative to the model, in the same notation.
        message: What is wrong, without the location.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _step(container: Any, key: int | str) -> Any:
    try:
        return container[key]
    except (KeyError, IndexError, TypeError):
        return None


def location(loc: tuple[int | str, ...], data: Any) -> str:
    """``("floors", 0, "size_m")`` -> ``"floors[concourse].size_m"``, looking ids up in ``data``.

    Args:
        loc: pydantic's location of an error.
        data: The mapping that was validated (to find each list item's ``id``).
    """
    text = ""
    node = data
    for key in loc:
        if isinstance(key, int):
            item = _step(node, key)
            item_id = _step(item, "id")
            text += f"[{item_id}]" if isinstance(item_id, str) and item_id else f"[{key}]"
            node = item
        elif "[" in key:
            # A union member's type name (e.g. "tuple[float, float]"): not a place in the file.
            continue
        else:
            text += f".{key}" if text else key
            node = _step(node, key)
    return text


def _input_note(item: dict[str, Any]) -> str:
    value = item.get("input")
    if item["type"] in _PLAIN or isinstance(value, (dict, list, tuple)) or value is None:
        return ""
    shown = repr(value)
    return f", got {shown}" if len(shown) <= 60 else ""


def describe(error: ValidationError, data: Any) -> str:
    """One line naming each failure of ``error`` by its path of ids, without pydantic's prefixes."""
    lines = []
    for item in error.errors():
        where = location(tuple(item["loc"]), data)
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            where = f"{where}.{cause.path}" if where else cause.path
            what = cause.message
        elif isinstance(cause, Exception):
            what = str(cause)
        elif item["type"] == "missing" and item["loc"] and isinstance(item["loc"][-1], int):
            what = "too few values"
        elif item["type"] == "string_pattern_mismatch" and (item.get("ctx") or {}).get("pattern") == ID_PATTERN:
            what = ID_RULE + _input_note(item)
        else:
            what = _PLAIN.get(item["type"], item["msg"]) + _input_note(item)
        lines.append(f"{where}: {what}" if where else what)
    shown = lines[:MAX_ERRORS_SHOWN]
    if len(lines) > MAX_ERRORS_SHOWN:
        shown.append(f"and {len(lines) - MAX_ERRORS_SHOWN} more")
    return "; ".join(shown)
