"""Soak test of the scale-out station: the simulated demo station, every camera, many Socket.IO clients.

Runs the real processes (``crowdmap edge``, ``aggregate``, ``serve``) against a private Redis,
connects ``--clients`` Socket.IO clients (from a separate gevent process) spread over the web
processes, and reports for each phase:

- delivery latency of each frame at the clients (client receive time minus the frame's
  timestamp, i.e. from the aggregator's tick to the browser socket): median, p95, p99;
- frames received per client against frames published;
- memory (RSS) of every server process: median over the first tenth of the run after warm-up
  against the median over the last tenth, as growth in percent;
- errors: client connection errors and disconnects, ERROR lines in the process logs, dead
  processes, messages the web tier rejected or dropped.

Phases: ``1web`` (the baseline: one web process) and ``2web`` (the same load across two web
processes behind the Redis message queue), measured in the same run.

    .venv/bin/python bench/soak.py --clients 500 --duration-s 1800
    .venv/bin/python bench/soak.py --clients 100 --duration-s 120 --phases 1web   # quick look
"""

from __future__ import annotations

import sys

if len(sys.argv) > 1 and sys.argv[1] == "_clients":
    # The client swarm runs in its own process under gevent: patch before anything else.
    from gevent import monkey

    monkey.patch_all()

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

STATION = "demo-station"


# ---- the client swarm (its own process) ---------------------------------------------------------


def run_clients(ports: list[int], clients: int, duration_s: float, out_path: Path) -> None:
    """Many light Socket.IO clients speaking the wire protocol (Engine.IO 4 / Socket.IO 5) over raw websockets.

    A full client library costs several threads and a pure-Python frame parser per connection;
    hundreds of them on a shared two-core machine measure the load generator, not the server.
    These do what a browser does: open a websocket, join ``/public``, answer pings, and note
    when each frame arrives (reading only the frame's timestamp). A connection the server
    closes is counted as an error and opened again, so every client stays for the whole run.
    """
    import base64
    import os
    import socket

    import gevent

    latencies: list[float] = []
    counts = [0] * clients
    errors: dict[str, int] = {}
    joined = [False] * clients
    stamp_key = b'"timestamp":'

    def count_error(key: str) -> None:
        errors[key] = errors.get(key, 0) + 1

    def send_text(sock: socket.socket, text: bytes) -> None:
        # Client frames are masked (RFC 6455); the messages we send are short.
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(text))
        sock.sendall(bytes([0x81, 0x80 | len(text)]) + mask + masked)

    def session(index: int, port: int) -> None:
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall(
                f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n".encode()
            )
            reader = sock.makefile("rb")
            status = reader.readline()
            if b" 101 " not in status:
                raise ConnectionError(f"upgrade refused: {status[:40]!r}")
            while reader.readline() not in (b"\r\n", b""):
                pass
            while time.time() < deadline:
                sock.settimeout(max(0.1, deadline - time.time()))
                try:
                    head = reader.read(2)
                except TimeoutError:
                    return
                if len(head) < 2:
                    raise ConnectionError("closed by the server")
                opcode, length = head[0] & 0x0F, head[1] & 0x7F
                if length == 126:
                    length = int.from_bytes(reader.read(2), "big")
                elif length == 127:
                    length = int.from_bytes(reader.read(8), "big")
                payload = reader.read(length)
                if opcode == 0x8:
                    raise ConnectionError("closed by the server")
                if opcode != 0x1:
                    continue
                if payload.startswith(b'42/public,["crowding"'):
                    arrived = time.time()
                    start = payload.index(stamp_key) + len(stamp_key)
                    stamp = float(payload[start : payload.index(b",", start)])
                    # The first payload is the latest frame sent on join, not a live delivery.
                    if counts[index] > 0:
                        latencies.append(arrived - stamp)
                    counts[index] += 1
                elif payload == b"2":  # Engine.IO ping
                    send_text(sock, b"3")
                elif payload.startswith(b"0{"):  # Engine.IO open: connect to the namespace
                    send_text(sock, b"40/public,")
                elif payload.startswith(b"40/public,"):
                    send_text(sock, b'42/public,1["join",{"station":"' + STATION.encode() + b'"}]')
                elif payload.startswith(b"43/public,1"):
                    joined[index] = b'"ok":true' in payload
                    if not joined[index]:
                        count_error("join_refused")
                elif payload.startswith((b"44/public", b"41/public", b"1")):
                    raise ConnectionError("refused or closed by the server")
        finally:
            sock.close()

    def one(index: int) -> None:
        port = ports[index % len(ports)]
        while time.time() < deadline:
            try:
                session(index, port)
            except (OSError, ValueError) as error:  # counted and reported: a soak error
                count_error(f"{type(error).__name__}: {str(error)[:40]}")
                gevent.sleep(1.0)

    deadline = time.time() + duration_s
    greenlets = []
    for index in range(clients):
        greenlets.append(gevent.spawn(one, index))
        gevent.sleep(0.02)  # ramp up instead of a thundering herd
    gevent.joinall(greenlets, timeout=duration_s + 120)
    result = {"latencies_s": latencies, "frames_per_client": counts, "errors": errors, "connected": sum(joined)}
    out_path.write_text(json.dumps(result))


def cpu_s(pid: int) -> float | None:
    """User plus system CPU seconds a process used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- the orchestrator ---------------------------------------------------------------------------


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_phase(name: str, webs: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from crowdmap.station import load_station
    from tests.harness.localredis import LocalRedis
    from tests.harness.localstation import LocalStation, wait_for

    redis_server = LocalRedis(workdir / f"{name}-redis")
    redis_server.start()
    station = LocalStation(STATION, redis_server.url, workdir / name)
    cameras = [camera.id for camera in load_station(STATION).layout.cameras]
    try:
        groups = [cameras[i :: args.edge_processes] for i in range(args.edge_processes)]
        edges = [station.edge(f"edge-{i}", group) for i, group in enumerate(groups)]
        aggregate = station.aggregate()
        serves = [station.serve(f"web-{i}") for i in range(webs)]
        logs = lambda: "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in station.processes)  # noqa: E731
        for process in [*edges, aggregate, *serves]:
            wait_for(lambda p=process: p.get("/healthz")[0] == 200, timeout_s=180, what=f"{process.name}", logs=logs)
        frames_before = aggregate.metric("crowdmap_aggregator_frames_published_total")
        # Several swarm processes: on a shared machine each gets its own share of the CPU.
        shares = [args.clients // args.client_processes + (i < args.clients % args.client_processes)
                  for i in range(args.client_processes)]  # fmt: skip
        outs = [workdir / f"{name}-clients-{i}.json" for i in range(args.client_processes)]
        argv = [sys.executable, __file__, "_clients", json.dumps([s.port for s in serves])]
        swarms = [
            subprocess.Popen([*argv, str(share), str(args.duration_s), str(out)])
            for share, out in zip(shares, outs, strict=True)
        ]
        samples: dict[str, list[tuple[float, float]]] = {p.name: [] for p in station.processes}
        cpu_before = {p.name: cpu_s(p.pid) for p in station.processes}
        started = time.time()
        client_cpu_s = [0.0] * len(swarms)
        load: list[float] = []  # the machine's 1-minute load average: a shared box skews every latency
        while any(swarm.poll() is None for swarm in swarms):
            for process in station.processes:
                value = rss_mib(process.pid) if process.alive() else None
                if value is not None:
                    samples[process.name].append((time.time() - started, value))
            client_cpu_s = [cpu_s(swarm.pid) or used for swarm, used in zip(swarms, client_cpu_s, strict=True)]
            load.append(float(Path("/proc/loadavg").read_text().split()[0]))
            time.sleep(args.sample_s)
        elapsed_s = time.time() - started
        cpu_cores = {p.name: round(((cpu_s(p.pid) or 0.0) - (cpu_before[p.name] or 0.0)) / elapsed_s, 3)
                     for p in station.processes}  # fmt: skip
        cpu_cores["clients"] = round(sum(client_cpu_s) / elapsed_s, 3)
        frames_published = aggregate.metric("crowdmap_aggregator_frames_published_total") - frames_before
        web_metrics = {
            "rejected": sum(s.metric("crowdmap_web_messages_rejected_total") for s in serves),
            "dropped_slow_client": sum(s.metric("crowdmap_web_frames_dropped_slow_client_total") for s in serves),
        }
        dead = [p.name for p in station.processes if not p.alive()]
        error_lines = {
            p.name: sum('"level": "ERROR"' in line for line in p.log_path.read_text(errors="replace").splitlines())
            for p in station.processes
        }
    finally:
        station.stop()
        redis_server.stop()
    parts = [json.loads(out.read_text()) for out in outs]
    errors: dict[str, int] = {}
    for part in parts:
        for key, value in part["errors"].items():
            errors[key] = errors.get(key, 0) + value
    clients = {
        "latencies_s": [x for part in parts for x in part["latencies_s"]],
        "frames_per_client": [x for part in parts for x in part["frames_per_client"]],
        "connected": sum(part["connected"] for part in parts),
        "errors": errors,
    }
    latencies = clients["latencies_s"]
    memory = {}
    for process_name, series in samples.items():
        # Growth: after warm-up (the first fifth), first tenth of what is left against the last tenth.
        steady = [v for t, v in series if t >= args.duration_s * 0.2]
        tenth = max(1, len(steady) // 10)
        if len(steady) >= 2:
            first, last = statistics.median(steady[:tenth]), statistics.median(steady[-tenth:])
            memory[process_name] = {"start_mib": round(first, 1), "end_mib": round(last, 1),
                                    "growth_pct": round(100.0 * (last - first) / first, 2)}  # fmt: skip
    per_client = clients["frames_per_client"]
    return {
        "phase": name,
        "web_processes": webs,
        "clients": args.clients,
        "connected": clients["connected"],
        "duration_s": args.duration_s,
        "frames_published": frames_published,
        "frames_per_client_median": statistics.median(per_client) if per_client else 0,
        "deliveries": len(latencies),
        "latency_s": {
            "p50": round(percentile(latencies, 0.50), 4),
            "p95": round(percentile(latencies, 0.95), 4),
            "p99": round(percentile(latencies, 0.99), 4),
            "max": round(max(latencies), 4) if latencies else None,
        },
        "memory": memory,
        "cpu_cores": cpu_cores,
        "load_average_median": round(statistics.median(load), 1) if load else None,
        "errors": {"clients": clients["errors"], "log_error_lines": error_lines, "dead_processes": dead, **web_metrics},
    }


def main() -> int:
    # Scripts in bench/ are named after the packages they measure (bench/iconizer.py): keep this
    # folder off the import path so ``import iconizer`` finds the package, not a benchmark.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    # The private Redis (and station processes) come from the test harness in tests/harness/.
    sys.path.insert(0, str(here.parent))
    if len(sys.argv) > 1 and sys.argv[1] == "_clients":
        run_clients(json.loads(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), Path(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--duration-s", type=float, default=1800.0)
    parser.add_argument("--phases", default="1web,2web", help="comma-separated: 1web, 2web")
    parser.add_argument("--edge-processes", type=int, default=2, help="edge processes sharing the cameras")
    parser.add_argument("--client-processes", type=int, default=2, help="processes the clients are spread over")
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between memory samples")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here too")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="crowdmap-soak-") as tmp:
        for phase in args.phases.split(","):
            webs = {"1web": 1, "2web": 2}[phase.strip()]
            result = run_phase(phase.strip(), webs, args, Path(tmp))
            print(json.dumps(result, indent=2), flush=True)
            results.append(result)
    if len(results) == 2:
        base, other = results
        print(json.dumps({"p95_ratio_2web_over_1web": round(other["latency_s"]["p95"] / base["latency_s"]["p95"], 3)}))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
