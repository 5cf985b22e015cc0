"""An index from each client to its rooms, so joins and disconnects cost the same at any crowd size.

python-socketio finds a client's rooms by scanning every room of the namespace, and every
client has a room of its own: with N clients, a disconnect or a ``rooms()`` call (made by each
``join``) costs O(N), and N clients leaving together cost O(N^2). At 5,000 clients a burst of
disconnects (a network blip, a redeploy, the end of a benchmark) held the one server greenlet
for seconds, long enough for the remaining clients to miss their pings and disconnect too.

:class:`RoomIndex` keeps ``(namespace, sid) -> rooms`` beside python-socketio's own tables,
updated in the two functions every change goes through (``basic_enter_room`` and
``basic_leave_room``), and answers the two scans from it. What a disconnect clears besides the
rooms is python-socketio's private state, cleared through :mod:`webmap.internals`; where that
is not possible, the library's own scanning ``basic_disconnect`` runs.
"""

from __future__ import annotations

from typing import Any

import socketio

from webmap import internals


class RoomIndex(socketio.Manager):
    """A client manager that knows each client's rooms without scanning all of them.

    Attributes:
        private: Whether a disconnect may clear python-socketio's private state directly
            (subclasses set it from :func:`webmap.internals.usable`); off, the library's own
            ``basic_disconnect`` scans.
    """

    private = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rooms_of: dict[tuple[str, str], set[Any]] = {}

    def basic_enter_room(self, sid, namespace, room, eio_sid=None):
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        self.rooms_of.setdefault((namespace, sid), set()).add(room)

    def basic_leave_room(self, sid, namespace, room):
        super().basic_leave_room(sid, namespace, room)
        joined = self.rooms_of.get((namespace, sid))
        if joined is not None:
            joined.discard(room)
            if not joined:
                del self.rooms_of[(namespace, sid)]

    def get_rooms(self, sid, namespace):
        """The rooms a client is in (without the connected clients' set, ``None``)."""
        return [room for room in self.rooms_of.get((namespace, sid), ()) if room is not None]

    def basic_disconnect(self, sid, namespace, **kwargs):
        # python-socketio's own version, with the scan over all rooms replaced by the index.
        for room in list(self.rooms_of.get((namespace, sid), ())):
            self.basic_leave_room(sid, namespace, room)  # the last one removes the index entry
        if not self.private or not internals.clear_client(self, sid, namespace):
            super().basic_disconnect(sid, namespace, **kwargs)
