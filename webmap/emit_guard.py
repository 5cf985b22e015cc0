"""What the web tier may send on each Socket.IO namespace, checked where it is sent (PRIVACY.md P1).

Every broadcast reaches the clients through the client manager's ``emit``, whether this process
made it (the hub, from a validated bus message) or it arrived on the Socket.IO message queue
from another process, or from anyone who can ``PUBLISH`` on that Redis channel. So the manager
asks :class:`EmitGuard` before it sends anything:

- ``/public``: only the ``crowding`` event, only to a station or floor room, and only a payload
  that passes the strict public schema of that room's encoding (:class:`webmap.schemas.Crowding`
  or :class:`~webmap.schemas.CompactCrowding`), for that station and floor. Binary attachments
  never pass: the payload is checked as the JSON text a client would get, and bytes have none.
- ``/staff`` and ``/operator``: only the ``crowding``, ``alert`` and ``camera`` events, to a
  station's room, as JSON without binary parts and within a size bound; ``crowding`` must pass
  the public schema too.
- any other namespace, and any emit asking for a client acknowledgement: nothing.

A refused emit is dropped, logged in one line and counted by namespace and reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from station.ids import is_id
from webmap.hub import CROWDING_EVENT, OPERATOR_NAMESPACE, PUBLIC_NAMESPACE, STAFF_NAMESPACE
from webmap.schemas import CompactCrowding, Crowding, check, to_json

logger = logging.getLogger(__name__)

STAFF_NAMESPACES = (STAFF_NAMESPACE, OPERATOR_NAMESPACE)
STAFF_EVENTS = ("crowding", "alert", "camera")
MAX_STAFF_EVENT_BYTES = 64 * 1024
REASONS = ("namespace", "callback", "event", "room", "schema", "size")


def parse_public_room(room: Any) -> tuple[str, str | None, str] | None:
    """``(station, floor or None, encoding)`` of a ``/public`` room name, or ``None`` for anything else.

    The names are :func:`webmap.payload.station_room` and :func:`~webmap.payload.floor_room`'s:
    ``station:<id>``, ``station:<id>:floor:<id>``, each optionally ending in ``:compact``.
    """
    if not isinstance(room, str):
        return None
    parts = room.split(":")
    encoding = "json"
    if parts[-1] == "compact":
        encoding = "compact"
        parts = parts[:-1]
    if len(parts) == 2 and parts[0] == "station" and is_id(parts[1]):
        return parts[1], None, encoding
    if len(parts) == 4 and parts[0] == "station" and parts[2] == "floor" and is_id(parts[1]) and is_id(parts[3]):
        return parts[1], parts[3], encoding
    return None


class EmitGuard:
    """Decides whether one emit may go out (see the module docstring).

    Args:
        on_refused: Called with ``(namespace, reason)`` for every refused emit (a metrics counter).
    """

    def __init__(self, on_refused: Callable[[str, str], None] | None = None) -> None:
        self.on_refused = on_refused

    def refusal(self, event: Any, data: Any, namespace: Any, room: Any, callback: Any = None) -> str | None:
        """The reason this emit must not be sent, or ``None`` when it may."""
        if namespace != PUBLIC_NAMESPACE and namespace not in STAFF_NAMESPACES:
            return "namespace"
        if callback is not None:
            return "callback"
        if namespace == PUBLIC_NAMESPACE:
            return self._public(event, data, room)
        return self._staff(event, data, room)

    @staticmethod
    def _public(event: Any, data: Any, room: Any) -> str | None:
        if event != CROWDING_EVENT:
            return "event"
        target = parse_public_room(room)
        if target is None:
            return "room"
        station, floor, encoding = target
        if check(CompactCrowding if encoding == "compact" else Crowding, data) is not None:
            return "schema"
        if data["station"] != station:
            return "room"
        if floor is not None and [f["floor"] for f in data["floors"]] != [floor]:
            return "room"
        return None

    @staticmethod
    def _staff(event: Any, data: Any, room: Any) -> str | None:
        if event not in STAFF_EVENTS:
            return "event"
        if not is_id(room):
            return "room"
        if event == CROWDING_EVENT:
            return None if check(Crowding, data) is None else "schema"
        try:
            text = to_json(data)
        except (TypeError, ValueError):
            return "schema"
        if not isinstance(data, dict):
            return "schema"
        return "size" if len(text) > MAX_STAFF_EVENT_BYTES else None

    def allows(self, event: Any, data: Any, namespace: Any, room: Any, callback: Any = None) -> bool:
        """Whether the emit may go out; a refusal is logged and counted."""
        reason = self.refusal(event, data, namespace, room, callback)
        if reason is None:
            return True
        # The event name only, never the data: a refused payload may be exactly what must not spread.
        logger.warning(
            "refused to send %r to %s room %r: %s", str(event)[:40], str(namespace)[:40], str(room)[:80], reason
        )
        if self.on_refused is not None:
            self.on_refused(str(namespace) if namespace in (PUBLIC_NAMESPACE, *STAFF_NAMESPACES) else "other", reason)
        return False
