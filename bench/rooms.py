"""Join and disconnect cost with python-socketio's room scans vs ``webmap.room_index.RoomIndex``.

    .venv/bin/python bench/rooms.py --clients 1000 5000 10000

What a public client does to the client manager: connect to ``/public``, ``join`` (which asks
for the client's rooms, leaves any station room and enters one), and later disconnect. Timed
for N clients in a row, as a ramp-up and a mass disconnect (a network blip) do it; the
manager alone, no network. Prints medians of ``--repeat`` runs, microseconds per client.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# Run as a script, bench/ comes first on sys.path, and bench/iconizer.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import socketio  # noqa: E402

from webmap.room_index import RoomIndex  # noqa: E402

NAMESPACE = "/public"


def run(manager: socketio.Manager, clients: int) -> tuple[float, float]:
    """Seconds per client for connect+join, and for disconnect."""
    socketio.Server(client_manager=manager)
    start = time.perf_counter()
    sids = []
    for i in range(clients):
        sid = manager.connect(f"eio{i}", NAMESPACE)
        for room in manager.get_rooms(sid, NAMESPACE):  # what on_join does through rooms()
            if room.startswith("station:"):
                manager.leave_room(sid, NAMESPACE, room)
        manager.enter_room(sid, NAMESPACE, f"station:demo-station{':compact' if i % 2 else ''}")
        sids.append(sid)
    joined = time.perf_counter()
    for sid in sids:
        manager.disconnect(sid, NAMESPACE)
    done = time.perf_counter()
    return (joined - start) / clients, (done - joined) / clients


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print("| clients | manager | join us/client | disconnect us/client | all N disconnect, s |")
    print("|---:|---|---:|---:|---:|")
    for clients in args.clients:
        rows = {}
        for name, factory in (("python-socketio", socketio.Manager), ("RoomIndex", RoomIndex)):
            runs = [run(factory(), clients) for _ in range(args.repeat)]
            join = statistics.median(r[0] for r in runs)
            leave = statistics.median(r[1] for r in runs)
            rows[name] = (join, leave)
            print(f"| {clients} | {name} | {join * 1e6:.1f} | {leave * 1e6:.1f} | {leave * clients:.2f} |", flush=True)
        (sj, sd), (ij, idx) = rows["python-socketio"], rows["RoomIndex"]
        print(f"{clients} clients: RoomIndex / python-socketio = {ij / sj:.3f} (join), {idx / sd:.3f} (disconnect)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
