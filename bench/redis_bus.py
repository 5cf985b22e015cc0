"""Throughput and latency of the Redis bus against the embedded bus, with real positions messages.

Sends ``--messages`` encoded positions messages (``--points`` people each, the wire format of
``bus.codec``) from a publisher to a reader in another process and measures, per bus:

- throughput: messages a second from the first send to the last receive;
- latency: receive time minus send time of each message (median, p95).

The baseline is the embedded bus (``bus.embedded.QueueTopic``: a multiprocessing queue), run in
the same invocation; the Redis bus is ``RedisStreamPublisher`` -> ``RedisGroupSubscriber``
against a private redis-server on a free port. ``--repeats`` runs each and reports medians.

    .venv/bin/python bench/redis_bus.py --messages 5000 --points 30 --repeats 3              # throughput
    .venv/bin/python bench/redis_bus.py --messages 3000 --points 30 --repeats 3 --rate 100   # latency
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

STATION = "bench-station"


def message(points: int, sent_s: float, rng: np.random.Generator) -> bytes:
    from bus.codec import encode_positions
    from homography.types import FloorPositions

    xy = rng.uniform(0, 30, size=(points, 2))
    positions = FloorPositions("cam-1", "floor-1", sent_s, xy, np.full(points, 0.9), np.full(points, 0.2))
    return encode_positions(STATION, positions)


def read_all(kind: str, target: object, count: int, out: multiprocessing.Queue) -> None:
    """The reader process: receive ``count`` messages, decode each, note the latency."""
    from bus.codec import decode_message
    from bus.redis_subscribers import RedisGroupSubscriber

    if kind == "redis":
        url, stream = target
        subscriber = RedisGroupSubscriber(url, stream, group="bench", consumer="c1")
    else:
        subscriber = target
    subscriber.receive(timeout_s=0.01)  # connect (and join the group) before the clock starts
    out.put("ready")
    latencies = []
    received = 0
    first_s = None
    while received < count:
        raw = subscriber.receive(timeout_s=1.0)
        if raw is None:
            continue
        now = time.time()
        first_s = first_s or now
        latencies.append(now - decode_message(raw).positions.timestamp_s)
        received += 1
    out.put({"latencies": latencies, "last_s": time.time()})


def run_once(kind: str, messages: int, points: int, url: str | None, rate_per_s: float) -> dict[str, float]:
    from bus.embedded import QueueTopic
    from bus.redis_link import positions_stream
    from bus.redis_publisher import RedisStreamPublisher
    from bus.redis_subscribers import RedisGroupSubscriber

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    rng = np.random.default_rng(0)
    if kind == "redis":
        stream = positions_stream(f"{STATION}-{time.monotonic_ns()}")
        # The group must exist before the first message, as it does in a running station.
        RedisGroupSubscriber(url, stream, group="bench", consumer="c1").receive(timeout_s=0.01)
        publisher = RedisStreamPublisher(url, stream, maxlen=messages + 1000, buffer_messages=messages)
        reader = ctx.Process(target=read_all, args=("redis", (url, stream), messages, out))
    else:
        # Capacity as large as the run, so the baseline never drops (the Redis publisher does not either).
        publisher = QueueTopic.create(ctx, capacity=messages)
        reader = ctx.Process(target=read_all, args=("queue", publisher, messages, out))
    reader.start()
    if out.get(timeout=300) != "ready":  # the reader imported and connected: start the clock
        raise RuntimeError("the reader process did not start")
    started = time.time()
    for index in range(messages):
        if rate_per_s > 0:  # paced like cameras; 0 floods the bus to find its throughput
            time.sleep(max(0.0, started + index / rate_per_s - time.time()))
        publisher.publish(message(points, time.time(), rng))
    result = out.get(timeout=600)
    reader.join(10)
    if kind == "redis":
        publisher.close()
    latencies = result["latencies"]
    return {
        "messages_per_s": messages / (result["last_s"] - started),
        "latency_p50_ms": 1000 * statistics.median(latencies),
        "latency_p95_ms": 1000 * sorted(latencies)[int(0.95 * (len(latencies) - 1))],
    }


def main() -> int:
    # Scripts in bench/ are named after the packages they measure (bench/iconizer.py): keep this
    # folder off the import path (inherited by the reader processes) so ``import iconizer`` finds the package.
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    # The private Redis (and station processes) come from the test harness in tests/harness/.
    sys.path.insert(0, str(here.parent))
    from tests.harness.localredis import LocalRedis

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--points", type=int, default=30, help="people per positions message")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--rate", type=float, default=0.0,
        help="messages per second (e.g. 60: six cameras at 10 fps); 0 sends as fast as possible",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crowdmap-bench-") as tmp:
        server = LocalRedis(Path(tmp))
        server.start()
        try:
            runs = {"embedded": [], "redis": []}
            for _ in range(args.repeats):
                runs["embedded"].append(run_once("queue", args.messages, args.points, None, args.rate))
                runs["redis"].append(run_once("redis", args.messages, args.points, server.url, args.rate))
        finally:
            server.stop()
    medians = {
        bus: {key: round(statistics.median(r[key] for r in results), 2) for key in results[0]}
        for bus, results in runs.items()
    }
    ratio = round(medians["redis"]["messages_per_s"] / medians["embedded"]["messages_per_s"], 3)
    print(json.dumps({"messages": args.messages, "points": args.points, "rate_per_s": args.rate,
                      "repeats": args.repeats, "median": medians,
                      "throughput_ratio_redis_over_embedded": ratio}, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
