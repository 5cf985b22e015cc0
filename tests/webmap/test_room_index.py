"""The room index answers exactly what python-socketio's scans answer, under any sequence of changes."""

import random

import pytest
import socketio

from webmap.backpressure import BoundedManager, BoundedRedisManager
from webmap.room_index import RoomIndex

NAMESPACES = ("/public", "/staff")
ROOMS = ("station:a", "station:b", "station:a:compact", "a")


def snapshot(manager, clients):
    """Every room table and every client's rooms, by Engine.IO id (Socket.IO ids are random)."""
    tables = {
        ns: {
            room: sorted(manager.rooms[ns][room].values())
            for room in manager.rooms.get(ns, {})
            if room is None or not manager.is_sid_room(ns, room)
        }
        for ns in NAMESPACES
    }
    rooms = {
        (ns, eio): sorted(manager.get_rooms(sid, ns), key=str) for (ns, eio), sid in clients.items() if sid is not None
    }
    return tables, {key: [r for r in value if r not in clients.values()] for key, value in rooms.items()}


@pytest.mark.parametrize("seed", range(5))
def test_index_agrees_with_the_stock_manager(seed):
    rng = random.Random(seed)
    managers = {"stock": socketio.Manager(), "indexed": RoomIndex()}
    clients = {name: {} for name in managers}  # (namespace, eio_sid) -> sid
    for manager in managers.values():
        socketio.Server(client_manager=manager)
    for step in range(600):
        op = rng.choice(["connect", "connect", "enter", "enter", "leave", "disconnect", "close"])
        ns, eio = rng.choice(NAMESPACES), f"eio{rng.randrange(40)}"
        room = rng.choice(ROOMS)
        for name, manager in managers.items():
            sid = clients[name].get((ns, eio))
            if op == "connect" and sid is None:
                clients[name][(ns, eio)] = manager.connect(eio, ns)
            elif op == "enter" and sid is not None:
                manager.enter_room(sid, ns, room)
            elif op == "leave" and sid is not None:
                manager.leave_room(sid, ns, room)
            elif op == "disconnect" and sid is not None:
                manager.disconnect(sid, ns)
                clients[name][(ns, eio)] = None
            elif op == "close":
                manager.close_room(room, ns)
        assert snapshot(managers["stock"], clients["stock"]) == snapshot(managers["indexed"], clients["indexed"]), (
            f"differs after step {step} ({op} {ns} {eio} {room})"
        )
    indexed = managers["indexed"]
    for (ns, _), sid in clients["indexed"].items():
        if sid is not None:
            indexed.disconnect(sid, ns)
    assert indexed.rooms_of == {}, "nothing left behind once everyone is gone"


def test_both_web_managers_carry_the_index():
    assert isinstance(BoundedManager(), RoomIndex)
    redis_manager = BoundedRedisManager("redis://127.0.0.1:6379/0", write_only=True)
    assert redis_manager.rooms_of == {} and redis_manager.max_backlog == 4
