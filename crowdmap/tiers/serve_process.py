"""``crowdmap serve`` as a process: one web server of a station, fed from Redis, one of many.

Each web process reads the station's frames stream into its hub (which validates every message)
and serves REST and Socket.IO; the one holding the relay lease (:mod:`crowdmap.tiers.relay`)
broadcasts bus frames through the message queue to the clients of all of them. The caller has
patched the standard library with gevent already.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from pathlib import Path

import gevent

from bus.redis_link import connect, frames_stream
from bus.redis_subscribers import RedisStreamSubscriber
from crowdmap.station_check import check_in_subprocess
from crowdmap.tiers.ops import Check, FunctionCollector, OpsStarter
from crowdmap.tiers.relay import FrameRelay, RelayGate, RelayLease, relay_lease_key, relay_metrics
from station import StationLayout
from webmap.app import create_app, hub_of, serve
from webmap.settings import WebSettings

log = logging.getLogger(__name__)


# The relay loop comes round at least every second; this long without it, the process is stuck.
RELAY_SILENCE_S = 10.0


def run_serve_process(
    layout: StationLayout,
    station_path: Path,
    settings: WebSettings,
    *,
    history_url: str | None,
    lease_ttl_s: float,
    start_ops: OpsStarter,
) -> int:
    """Serve ``layout`` until SIGTERM or SIGINT; ``settings.message_queue`` is the station's Redis."""
    redis_url = settings.message_queue
    if redis_url is None:
        raise ValueError("crowdmap serve needs the station's Redis as settings.message_queue")
    history = None
    if history_url:
        from history.source import StoreHistorySource
        from history.store import open_store

        history = StoreHistorySource(open_store(history_url), timezone=layout.station.timezone)
    # Calibration errors and camera coverage are fitted in a child process that may load OpenCV.
    check = check_in_subprocess(station_path)
    app, sio = create_app(settings, layouts=[layout], history=history, checks=[check] if check else None)
    hub = hub_of(app)

    holder = f"{socket.gethostname()}:{os.getpid()}:{settings.port}"
    lease = RelayLease(connect(redis_url), relay_lease_key(layout.station.id), holder, ttl_s=lease_ttl_s)
    gate = RelayGate(hub.emitter, lease)
    hub.emitter = gate
    subscriber = RedisStreamSubscriber(redis_url, frames_stream(layout.station.id))
    relay = FrameRelay(hub, subscriber, gate)
    stopping = {"now": False}

    registry = app.extensions["crowdmap_metrics"].registry
    registry.register(FunctionCollector(lambda: relay_metrics(relay)))

    def relay_alive() -> Check:
        silence_s = time.monotonic() - relay.last_receive_s
        return Check(ok=silence_s < RELAY_SILENCE_S, detail={"relay_silence_s": round(min(silence_s, 1e9), 2)})

    def ready() -> Check:
        alive = relay_alive()
        connected = subscriber.link.connected
        return Check(ok=alive.ok and connected, detail={**alive.detail, "redis_connected": connected})

    # Everything /metrics has (cameras, logins, the relay, the bus): for Prometheus on the ops
    # address (localhost by default); anonymous /metrics on the web port shows the public view only.
    start_ops(registry, relay_alive, ready)

    def shutdown() -> None:
        # Hand the relay over at once instead of after the lease runs out.
        stopping["now"] = True
        lease.release()
        log.info("web process stopping")
        logging.shutdown()
        os._exit(0)

    gevent.signal_handler(signal.SIGTERM, shutdown)
    gevent.signal_handler(signal.SIGINT, shutdown)
    sio.start_background_task(relay.run, lambda: stopping["now"])
    serve(app, sio, host=settings.host, port=settings.port)
    return 0
