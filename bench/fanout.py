"""Fan-out benchmark: N real Socket.IO clients over loopback, one crowding frame a second.

    .venv/bin/python -m webmap.assets install          # once: the npm socket.io-client (+ ws)
    .venv/bin/python bench/fanout.py --clients 1000 2000 5000
    .venv/bin/python bench/fanout.py --payload-only      # bytes, server encoding, client parsing per frame

For each client count and each server it starts:

- a web server process pinned to CPU 0 (``taskset``), gevent + gevent-websocket:
  ``webmap``  the real app (``create_app`` with the demo-station layout); a greenlet builds a
              station frame with ``--dots`` dots every second and hands the raw bus message to
              ``hub.receive`` (validation, public payload, latest store, bounded fan-out), which
              frames the message once and writes it to every socket (``webmap.direct_send``);
  ``queued``  the same app with ``direct_writes=False``: every client's frame goes through
              python-socketio's per-client queue and writer greenlet;
  ``plain``   the baseline: a bare Flask-SocketIO server emitting the same payload dict to
              one room with the stock client manager (what issue 6 measured);
- a load generator pinned to CPU 1: Node.js running the npm ``socket.io-client`` (WebSocket
  transport), N clients that each join the station's room, in the stable JSON encoding or, for
  a ``-compact`` setup (``webmap-compact``, ``queued-compact``), with ``"encoding": "compact"``
  as the public map does; each client checks that the packed dots it got decode to their count.

Latency is the time from the frame's timestamp (taken just before the server publishes it) to
its arrival in a client, on the same clock. Server CPU is the process's user+system time over
the measurement window divided by its length (1.0 = one core busy); memory is its RSS at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ comes first on sys.path, and bench/iconizer.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
NODE_MODULES = ROOT / "webmap" / "frontend" / "node_modules"
STATION = "demo-station"

LOADGEN_JS = r"""
// N socket.io-client connections; prints one JSON line of latencies (ms) when done.
const { io } = require("socket.io-client");
const [url, n, station, floor, encoding, warmupS, durationS] = process.argv.slice(2);
const clients = [];
let connected = 0, failed = 0, received = 0, corrupt = 0;
// A client that cannot read its frame did not get it: check what a map would decode.
function intact(p) {
  for (const f of p.floors) {
    const d = f.dots;
    if (Array.isArray(d)) continue;
    if (Buffer.from(d.packed, "base64").length !== 4 * d.count + Math.ceil(d.count / 8)) return false;
  }
  return true;
}
const lat = [];
let measuring = false;
function open(i) {
  const s = io(url + "/public", { transports: ["websocket"], reconnection: false, forceNew: true, timeout: 60000 });
  s.on("connect", () => {
    connected++;
    const join = { station };
    if (floor) join.floor = floor;
    if (encoding !== "json") join.encoding = encoding;
    s.emit("join", join);
  });
  s.on("connect_error", () => { failed++; });
  s.on("crowding", (p) => {
    if (!measuring) return;
    if (!intact(p)) { corrupt++; return; }
    received++;
    lat.push(Date.now() - p.timestamp * 1000);
  });
  clients.push(s);
}
// Ramp up in batches so the handshakes do not all land in the same millisecond.
let i = 0;
const batch = 100;
const ramp = setInterval(() => {
  for (let k = 0; k < batch && i < +n; k++, i++) open(i);
  if (i >= +n) {
    clearInterval(ramp);
    const wait = setInterval(() => {
      if (connected + failed >= +n) {
        clearInterval(wait);
        const connectedAt = Date.now();
        setTimeout(() => {
          measuring = true;
          process.stdout.write(JSON.stringify({ event: "measuring", connected, failed }) + "\n");
          setTimeout(() => {
            measuring = false;
            lat.sort((a, b) => a - b);
            const q = (f) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))] : null);
            process.stdout.write(JSON.stringify({
              event: "done", connected, failed, received, corrupt, p50: q(0.5), p95: q(0.95), p99: q(0.99),
              max: lat.length ? lat[lat.length - 1] : null, rampS: (connectedAt - start) / 1000,
            }) + "\n");
            for (const c of clients) c.close();
            setTimeout(() => process.exit(0), 500);
          }, +durationS * 1000);
        }, +warmupS * 1000);
      }
    }, 100);
  }
}, 50);
const start = Date.now();
"""


# ---- the servers (run in a child process: ``fanout.py --serve KIND PORT DOTS``) ---------------


def make_frames(layout, dots: int, rng, timestamp_s: float):
    """One station frame: ``dots`` dots on the concourse (70 % walking, on a 0.5 m grid), none on the platform."""
    import numpy as np

    from iconizer.types import IconFrame, ZoneState

    frames = []
    for floor in layout.floors:
        width, height = floor.size_m
        k = dots if floor.id == "concourse" else 0
        # Snapped to the iconizer's 0.5 m coarsening grid, as published frames are.
        xy = np.round(rng.uniform([0, 0], [width, height], size=(k, 2)) * 2) / 2
        zones = tuple(
            ZoneState(z.id, int(rng.integers(0, 40)), float(rng.uniform(0, 1.5)), int(rng.integers(0, 4)), "C", False)
            for z in layout.zones_on(floor.id)
        )
        frames.append(IconFrame(layout.station.id, floor.id, timestamp_s, xy, rng.random(k) < 0.7, zones))
    return frames


def serve(kind: str, port: int, dots: int) -> None:
    from gevent import monkey

    monkey.patch_all()
    import numpy as np

    from bus.codec import encode_station_frames
    from station import load_layout

    layout = load_layout(ROOT / "station_layouts" / STATION)
    rng = np.random.default_rng(0)
    data_dir = Path(tempfile.mkdtemp(prefix="fanout-"))
    if kind in ("webmap", "queued"):
        from webmap import WebSettings, create_app, hub_of

        settings = WebSettings(
            data_dir=data_dir, async_mode="gevent", cookie_secure=False, direct_writes=kind == "webmap"
        )
        app, sio = create_app(settings, layouts=[layout])
        hub = hub_of(app)

        def publish(timestamp_s: float) -> None:
            hub.receive(encode_station_frames(STATION, make_frames(layout, dots, rng, timestamp_s), timestamp_s))

    elif kind == "plain":
        from flask import Flask
        from flask_socketio import SocketIO, join_room

        from webmap.payload import public_payload

        app = Flask(__name__)
        app.config["SECRET_KEY"] = "benchmark-only-not-a-secret"
        sio = SocketIO(app, async_mode="gevent")

        @sio.on("join", namespace="/public")
        def _join(data):
            join_room(f"station:{data['station']}")
            return {"ok": True}

        def publish(timestamp_s: float) -> None:
            payload = public_payload(STATION, timestamp_s, make_frames(layout, dots, rng, timestamp_s))
            sio.emit("crowding", payload, namespace="/public", to=f"station:{STATION}")

    else:
        raise SystemExit(f"unknown server kind {kind!r}; expected webmap, queued or plain")

    def loop() -> None:
        next_s = time.time()
        while True:
            next_s += 1.0
            publish(time.time())
            sio.sleep(max(0.0, next_s - time.time()))

    sio.start_background_task(loop)
    sio.run(app, host="127.0.0.1", port=port, log_output=False)


# ---- the driver -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dropped_frames(port: int) -> float:
    """The web server's count of frames skipped for clients with a full queue (its /metrics)."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
            text = response.read().decode()
    except OSError:
        return float("nan")  # a server too busy to answer: the row says so instead of the run failing
    for line in text.splitlines():
        if line.startswith("crowdmap_web_frames_dropped_slow_client_total "):
            return float(line.split()[1])
    return float("nan")


PARSE_JS = r"""
// Median microseconds of JSON.parse of each file, over batches of 100.
const fs = require("fs");
const [batches, ...files] = process.argv.slice(2);
const out = {};
for (const file of files) {
  const text = fs.readFileSync(file, "utf8");
  const times = [];
  for (let b = 0; b < +batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) JSON.parse(text);
    times.push(Number(process.hrtime.bigint() - t0) / 100 / 1000);
  }
  times.sort((a, b) => a - b);
  out[file] = times[Math.floor(times.length / 2)];
}
process.stdout.write(JSON.stringify(out));
"""


def payload_costs(dots: int, repeat: int = 200) -> dict[str, dict[str, float]]:
    """Per encoding, what one frame costs per client, medians of ``repeat``.

    ``station_bytes`` / ``floor_bytes``: the payload as clients receive it; ``encode_ms``: the
    server building the encoded payload and its Socket.IO packet once (what the frame sent on
    ``join`` cost per joining client before it was cached); ``parse_us``: ``JSON.parse`` of the
    event in Node.js (V8, the browsers' engine), what socket.io-client does with every message.
    """
    import numpy as np
    from socketio import packet

    from station import load_layout
    from webmap.payload import ENCODINGS, encoded, public_payload

    layout = load_layout(ROOT / "station_layouts" / STATION)
    payload = public_payload(STATION, time.time(), make_frames(layout, dots, np.random.default_rng(0), time.time()))
    costs: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        files = {}
        for encoding in ENCODINGS:
            station, floor = encoded(payload, encoding), encoded(payload, encoding, "concourse")
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                packet.Packet(packet.EVENT, namespace="/public", data=["crowding", encoded(payload, encoding)]).encode()
                times.append(time.perf_counter() - start)
            costs[encoding] = {
                "station_bytes": len(json.dumps(station, separators=(",", ":")).encode()),
                "floor_bytes": len(json.dumps(floor, separators=(",", ":")).encode()),
                "encode_ms": statistics.median(times) * 1e3,
            }
            files[encoding] = Path(folder) / f"{encoding}.json"
            files[encoding].write_text(json.dumps(["crowding", station], separators=(",", ":")))
        script = Path(folder) / "parse.js"
        script.write_text(PARSE_JS)
        command = ["node", str(script), str(repeat), *map(str, files.values())]
        parsed = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        for encoding, path in files.items():
            costs[encoding]["parse_us"] = parsed[str(path)]
    return costs


def print_payload_costs(dots: int) -> None:
    costs = payload_costs(dots)
    print(f"| encoding | station B ({dots} dots) | floor B | server encode ms | client JSON.parse µs |")
    print("|---|---:|---:|---:|---:|")
    for encoding, c in costs.items():
        print(
            f"| {encoding} | {c['station_bytes']:.0f} | {c['floor_bytes']:.0f} | {c['encode_ms']:.2f} | "
            f"{c['parse_us']:.1f} |"
        )
    base, compact = costs["json"], costs["compact"]
    print(
        f"compact / json: bytes {compact['station_bytes'] / base['station_bytes']:.2f}, server encode "
        f"{compact['encode_ms'] / base['encode_ms']:.2f}, client parse {compact['parse_us'] / base['parse_us']:.2f}\n"
    )


def prefix(args: argparse.Namespace, cpu: int) -> list[str]:
    """Pin to one CPU; with ``--realtime``, also run under SCHED_FIFO so other work cannot delay wake-ups."""
    command = ["taskset", "-c", str(cpu)]
    if args.realtime:
        command += ["chrt", "--fifo", str(args.realtime)]
    return command


SETUPS = ("plain", "queued", "webmap", "queued-compact", "webmap-compact")


def run_one(setup: str, clients: int, args: argparse.Namespace, script: Path) -> dict:
    kind, _, encoding = setup.partition("-")
    port = free_port()
    server = subprocess.Popen(
        [*prefix(args, 0), sys.executable, __file__, "--serve", kind, str(port), str(args.dots)],
        cwd=ROOT,
        preexec_fn=lambda: os.nice(args.nice),
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
        floor = "concourse" if args.floor_rooms else ""
        loadgen = subprocess.Popen(
            [*prefix(args, 1), "node", "--single-threaded", str(script), f"http://127.0.0.1:{port}", str(clients),
             STATION, floor, encoding or "json", str(args.warmup), str(args.duration)],
            stdout=subprocess.PIPE, text=True, env=env, preexec_fn=lambda: os.nice(args.nice),
        )  # fmt: skip
        result: dict = {}
        cpu_start = wall_start = None
        deadline = time.time() + args.duration + args.warmup + 300
        for line in loadgen.stdout:
            message = json.loads(line)
            if message["event"] == "measuring":
                cpu_start, wall_start = cpu_seconds(server.pid), time.time()
                loadgen_start = cpu_seconds(loadgen.pid)
                dropped_start = dropped_frames(port) if kind != "plain" else None
            elif message["event"] == "done":
                result = message
                if cpu_start is not None:
                    elapsed = time.time() - wall_start
                    result["server_cpu"] = (cpu_seconds(server.pid) - cpu_start) / elapsed
                    result["loadgen_cpu"] = (cpu_seconds(loadgen.pid) - loadgen_start) / elapsed
                    if dropped_start is not None:
                        result["dropped"] = dropped_frames(port) - dropped_start
                result["server_rss_mib"] = rss_mib(server.pid)
                break
            if time.time() > deadline:
                break
        loadgen.wait(timeout=60)
        result.update(server=setup, clients=clients, expected=clients * args.duration)
        return result
    finally:
        server.kill()
        server.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 2000, 5000])
    parser.add_argument("--servers", nargs="+", default=list(SETUPS), choices=SETUPS, metavar="SETUP",
                        help=f"server and client encoding, from {', '.join(SETUPS)}")  # fmt: skip
    parser.add_argument("--dots", type=int, default=300, help="dots per frame on the concourse")
    parser.add_argument("--duration", type=int, default=20, help="measured seconds (one frame a second)")
    parser.add_argument(
        "--warmup", type=int, default=10, help="seconds after the last connection before measuring (the ramp's "
        "handshakes and first frames settle)",
    )  # fmt: skip
    parser.add_argument("--floor-rooms", action="store_true", help="clients join the concourse floor room only")
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; the table shows medians")
    parser.add_argument(
        "--realtime", type=int, default=0, metavar="PRIORITY",
        help="SCHED_FIFO priority for server and load generator (root; 0 = off): on a shared machine, what a "
        "dedicated one would give; the kernel still keeps 5 %% of each CPU for everything else",
    )  # fmt: skip
    parser.add_argument(
        "--nice", type=int, default=0,
        help="niceness of server and load generator (negative needs root): on a machine shared with other "
        "work, -15 gives them their cores, as the dedicated machine this models would",
    )  # fmt: skip
    parser.add_argument(
        "--payload-only", action="store_true", help="print what one frame costs per client in each encoding and stop"
    )
    parser.add_argument("--serve", nargs=3, metavar=("KIND", "PORT", "DOTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), int(args.serve[2]))
        return 0
    if shutil.which("node") is None or not (NODE_MODULES / "socket.io-client").is_dir():
        print("needs node and the npm client: .venv/bin/python -m webmap.assets install", file=sys.stderr)
        return 1
    print_payload_costs(args.dots)
    if args.payload_only:
        return 0
    print(f"load average before: {os.getloadavg()[0]:.2f} (1 min), niceness {args.nice}")
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "loadgen.js"
        script.write_text(LOADGEN_JS)
        rows = []
        for clients in args.clients:
            for setup in args.servers:
                runs = [run_one(setup, clients, args, script) for _ in range(args.repeat)]
                row = {key: statistics.median(r[key] for r in runs if r.get(key) is not None)
                       for key in ("p50", "p95", "p99", "max", "server_cpu", "loadgen_cpu", "server_rss_mib",
                                   "connected", "received", "corrupt", "dropped")
                       if any(r.get(key) is not None for r in runs)}  # fmt: skip
                row.update(server=setup, clients=clients, expected=runs[0]["expected"])
                rows.append(row)
                row["loadavg_1min"] = os.getloadavg()[0]
                print(json.dumps(row), flush=True)
    print()
    columns = ("clients", "setup", "connected", "frames received / expected", "corrupt", "dropped (slow)",
               "p50 ms", "p95 ms", "p99 ms", "server CPU", "load generator CPU", "server RSS MiB")  # fmt: skip
    print("| " + " | ".join(columns) + " |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['clients']} | {r['server']} | {r.get('connected', 0):.0f} | {r.get('received', 0):.0f} / "
            f"{r['expected']} | {r.get('corrupt', 0):.0f} | {r.get('dropped', float('nan')):.0f} | "
            f"{r.get('p50', float('nan')):.0f} | "
            f"{r.get('p95', float('nan')):.0f} | {r.get('p99', float('nan')):.0f} | "
            f"{r.get('server_cpu', float('nan')):.2f} | {r.get('loadgen_cpu', float('nan')):.2f} | "
            f"{r.get('server_rss_mib', float('nan')):.0f} |"
        )
    by_key = {(r["clients"], r["server"]): r for r in rows}
    for clients in args.clients:
        for setup, baseline in (("webmap", "queued"), ("webmap", "plain"), ("webmap-compact", "webmap"),
                                ("webmap-compact", "plain")):  # fmt: skip
            ours, other = by_key.get((clients, setup)), by_key.get((clients, baseline))
            if other and ours and other.get("p95") and ours.get("p95"):
                print(f"{clients} clients: {setup} p95 / {baseline} p95 = {ours['p95'] / other['p95']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
