"""The scale-out bus: Redis Streams carrying the same encoded messages as the embedded bus.

Two streams per station, both trimmed with ``MAXLEN ~`` so Redis memory stays bounded:

- ``crowdmap:<station>:positions``  edges -> aggregator (positions and camera status), read by
  the aggregator through a consumer group, so a restarted aggregator resumes where it stopped;
- ``crowdmap:<station>:frames``     aggregator -> web processes (icon frames, camera status),
  read by every web process on its own (fan-out, no group).

Each stream entry holds one field, ``m``: the bytes of :mod:`iconizer.wire`, nothing else. The
classes here implement :class:`crowdmap.bus.Publisher` and :class:`crowdmap.bus.Subscriber`,
so the edge worker and the aggregator run unchanged on either bus.

Faults: no call here raises because Redis is away. A publisher keeps what it cannot send yet in
a bounded buffer that drops its oldest message (counted), and reconnects with backoff from its
own sending thread, so ``publish`` never blocks a camera loop. A subscriber returns ``None``
while Redis is away and reconnects with backoff; a stream or group lost with a restarted Redis
is recreated.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

MESSAGE_FIELD = b"m"
DEFAULT_POSITIONS_MAXLEN = 5000
DEFAULT_FRAMES_MAXLEN = 120
DEFAULT_BUFFER_MESSAGES = 256
DEFAULT_MAX_AGE_S = 30.0
RECONNECT_BACKOFF_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
SOCKET_TIMEOUT_S = 5.0
# A blocking read longer than this would hold a stop request hostage; callers loop instead.
MAX_BLOCK_S = 1.0
# Errors that mean "Redis is not reachable right now", as opposed to a bug in a command.
REDIS_DOWN_ERRORS = (redis.ConnectionError, redis.TimeoutError, ConnectionError, OSError)

ClientFactory = Callable[[str], Any]


def positions_stream(station_id: str) -> str:
    """The stream carrying one station's positions and camera status from its edges."""
    return f"crowdmap:{station_id}:positions"


def frames_stream(station_id: str) -> str:
    """The stream carrying one station's icon frames and camera status to the web tier."""
    return f"crowdmap:{station_id}:frames"


def connect(url: str) -> redis.Redis:
    """A Redis client that fails fast: no hidden retries, so our own backoff decides.

    Raises:
        ValueError: the URL is not a ``redis://``, ``rediss://`` or ``unix://`` URL.
    """
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"expected a redis://, rediss:// or unix:// URL, got {url!r}")
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=2.0,
        retry=Retry(NoBackoff(), 0),
        decode_responses=False,
    )


def redact_url(url: str) -> str:
    """The URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0] if ":" in credentials else ""
    return f"{scheme}{sep}{user}:***@{host}"


def entry_age_s(entry_id: bytes | str, now_s: float) -> float:
    """Seconds between the time Redis stamped into a stream entry id and ``now_s`` (>= 0)."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return max(0.0, now_s - int(text.split("-", 1)[0]) / 1000.0)


@dataclass
class Backoff:
    """Growing waits between reconnection attempts, reset by a success.

    Attributes:
        delays_s: The wait after the 1st, 2nd, ... consecutive failure; the last one repeats.
    """

    delays_s: Sequence[float] = RECONNECT_BACKOFF_S
    failures: int = 0
    next_try_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.delays_s or any(d <= 0 for d in self.delays_s):
            raise ValueError(f"delays_s must be a non-empty list of positive seconds, got {list(self.delays_s)}")

    def ready(self, now_s: float) -> bool:
        """True when the next attempt may be made."""
        return now_s >= self.next_try_s

    def wait_s(self, now_s: float) -> float:
        """Seconds until the next attempt may be made."""
        return max(0.0, self.next_try_s - now_s)

    def failed(self, now_s: float) -> float:
        """Record a failure; returns the wait before the next attempt."""
        delay = self.delays_s[min(self.failures, len(self.delays_s) - 1)]
        self.failures += 1
        self.next_try_s = now_s + delay
        return delay

    def succeeded(self) -> None:
        """Record a success: the next failure waits the shortest delay again."""
        self.failures = 0
        self.next_try_s = 0.0


@dataclass
class LinkState:
    """Connection health and counters of one bus endpoint, read by ``/metrics``.

    Attributes:
        connected: The last Redis call succeeded.
        reconnects: Times the link came back after being down.
        errors: Redis calls that failed because Redis was unreachable.
        last_error: The last such error, as text without credentials.
    """

    connected: bool = False
    reconnects: int = 0
    errors: int = 0
    last_error: str = ""
    _ever_connected: bool = field(default=False, repr=False)

    def up(self) -> None:
        """Record a successful Redis call."""
        if not self.connected and self._ever_connected:
            self.reconnects += 1
            log.info("redis link is back")
        self.connected = True
        self._ever_connected = True

    def down(self, error: BaseException) -> None:
        """Record a Redis call that failed because Redis was unreachable."""
        if self.connected:
            log.warning("redis link lost: %s", type(error).__name__)
        self.connected = False
        self.errors += 1
        self.last_error = f"{type(error).__name__}: {str(error)[:120]}"


class RedisStreamPublisher:
    """Appends encoded messages to one stream from a background thread; never blocks the caller.

    Args:
        url: Redis URL.
        stream: Stream key, e.g. :func:`positions_stream`.
        maxlen: Approximate length the stream is trimmed to on every append.
        buffer_messages: Messages kept while Redis is away; the oldest is dropped beyond this.
        max_age_s: A buffered message older than this is dropped instead of sent late.
        client_factory: Builds the Redis client from ``url`` (tests inject a wrapper).
    """

    def __init__(
        self,
        url: str,
        stream: str,
        *,
        maxlen: int,
        buffer_messages: int = DEFAULT_BUFFER_MESSAGES,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        client_factory: ClientFactory = connect,
        backoff: Backoff | None = None,
    ) -> None:
        if maxlen < 1 or buffer_messages < 1 or max_age_s <= 0:
            raise ValueError(
                "maxlen and buffer_messages must be >= 1 and max_age_s > 0, "
                f"got {maxlen}, {buffer_messages}, {max_age_s}"
            )
        self.stream = stream
        self.maxlen = maxlen
        self.buffer_messages = buffer_messages
        self.max_age_s = max_age_s
        self.link = LinkState()
        self.sent = 0
        self.dropped = 0
        self._client = client_factory(url)
        self._backoff = backoff or Backoff()
        self._pending: deque[tuple[float, bytes]] = deque()
        self._in_flight = 0
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"publish {stream}", daemon=True)
        self._thread.start()

    @property
    def buffered(self) -> int:
        """Messages waiting to be sent."""
        with self._cond:
            return len(self._pending) + self._in_flight

    def publish(self, raw: bytes) -> bool:
        """Queue one message for sending; False only when the publisher is closed.

        When the buffer is full the *oldest* waiting message is dropped (and counted): the
        newest positions or frame are the ones worth delivering.
        """
        if not isinstance(raw, bytes):
            raise TypeError(f"the bus carries encoded bytes only, got {type(raw).__name__}")
        with self._cond:
            if self._closed:
                self.dropped += 1
                return False
            if len(self._pending) >= self.buffer_messages:
                self._pending.popleft()
                self.dropped += 1
            self._pending.append((time.monotonic(), raw))
            self._cond.notify()
        return True

    def flush(self, timeout_s: float) -> bool:
        """Wait until everything queued was sent (or dropped); True when nothing is left."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._pending or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def close(self, timeout_s: float = 2.0) -> None:
        """Send what can be sent within ``timeout_s``, then stop the sending thread."""
        self.flush(timeout_s)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout_s)
        with self._cond:
            self.dropped += len(self._pending)
            self._pending.clear()
        self._client.close()

    def _take_batch(self, limit: int = 64) -> list[bytes]:
        """Waiting messages, oldest first, minus those too old to be worth sending."""
        now = time.monotonic()
        batch: list[bytes] = []
        while self._pending and len(batch) < limit:
            queued_s, raw = self._pending.popleft()
            if now - queued_s > self.max_age_s:
                self.dropped += 1
                continue
            batch.append(raw)
        self._in_flight = len(batch)
        return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._pending or not self._backoff.ready(time.monotonic())):
                    # With messages waiting, sleep only until the backoff allows a new attempt.
                    self._cond.wait(self._backoff.wait_s(time.monotonic()) if self._pending else None)
                if self._closed:
                    return
                batch = self._take_batch()
            if not batch:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()
                continue
            try:
                pipe = self._client.pipeline(transaction=False)
                for raw in batch:
                    pipe.xadd(self.stream, {MESSAGE_FIELD: raw}, maxlen=self.maxlen, approximate=True)
                pipe.execute()
            except REDIS_DOWN_ERRORS as error:
                self.link.down(error)
                delay = self._backoff.failed(time.monotonic())
                log.debug("redis unreachable; retrying in %.2f s", delay)
                with self._cond:
                    # Put the batch back in front, keeping only as many as the buffer allows.
                    room = max(0, self.buffer_messages - len(self._pending))
                    keep = batch[len(batch) - room :] if room < len(batch) else batch
                    self.dropped += len(batch) - len(keep)
                    now = time.monotonic()
                    self._pending.extendleft((now, raw) for raw in reversed(keep))
                    self._in_flight = 0
                    self._cond.notify_all()
                continue
            except redis.ResponseError:
                # Redis refused the command itself (e.g. out of memory): drop the batch, go on.
                log.exception("redis refused %d messages for %s; dropping them", len(batch), self.stream)
                with self._cond:
                    self.dropped += len(batch)
                    self._in_flight = 0
                    self._cond.notify_all()
                continue
            self.link.up()
            self._backoff.succeeded()
            with self._cond:
                self.sent += len(batch)
                self._in_flight = 0
                self._cond.notify_all()


def _well_formed(fields: dict[bytes, bytes] | None) -> bool:
    """A stream entry of ours has exactly one field, ``m``."""
    return fields is not None and set(fields) == {MESSAGE_FIELD}


class _StreamReader:
    """What both subscribers share: a local buffer, backoff, lag and malformed-entry counting."""

    def __init__(self, url: str, stream: str, *, client_factory: ClientFactory, backoff: Backoff | None) -> None:
        self.stream = stream
        self.link = LinkState()
        self.received = 0
        self.malformed = 0
        self.last_lag_s = 0.0
        self._client = client_factory(url)
        self._backoff = backoff or Backoff()
        self._buffer: deque[bytes] = deque()

    def _unpack(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[bytes]:
        """Payloads of the entries; an entry that is not exactly ``{m: bytes}`` is counted and skipped."""
        now = time.time()
        out = []
        for entry_id, fields in entries:
            if not _well_formed(fields):
                self.malformed += 1
                log.warning("skipped a stream entry on %s without exactly one %r field", self.stream, MESSAGE_FIELD)
                continue
            self.last_lag_s = entry_age_s(entry_id, now)
            out.append(fields[MESSAGE_FIELD])
        return out

    def _wait_for_backoff(self, timeout_s: float) -> bool:
        """True when a Redis call may be tried now; otherwise sleeps up to ``timeout_s``."""
        now = time.monotonic()
        if self._backoff.ready(now):
            return True
        time.sleep(min(timeout_s, self._backoff.wait_s(now)))
        return False

    def _down(self, error: BaseException) -> None:
        self.link.down(error)
        self._backoff.failed(time.monotonic())

    def _pop(self) -> bytes | None:
        if self._buffer:
            self.received += 1
            return self._buffer.popleft()
        return None

    def close(self) -> None:
        self._client.close()


def _block_ms(timeout_s: float) -> int | None:
    """XREAD's BLOCK argument: None (do not block) for a zero timeout, else at least 1 ms."""
    if timeout_s <= 0:
        return None
    return max(1, int(min(timeout_s, MAX_BLOCK_S) * 1000))


class RedisGroupSubscriber(_StreamReader):
    """Reads a stream through a consumer group, so a restarted consumer resumes where it stopped.

    What it had not acknowledged, and what arrived while it was away, is delivered when it comes back.

    A message is acknowledged when the next one is asked for, i.e. after the caller handled it;
    a consumer that dies mid-message gets it again on restart (at-least-once).

    Args:
        url: Redis URL.
        stream: Stream key, e.g. :func:`positions_stream`.
        group: Consumer group name (one per consuming service, e.g. ``aggregator``).
        consumer: This consumer's name; keep it stable across restarts to resume its pending entries.
        batch: Entries fetched per round trip.
    """

    def __init__(
        self,
        url: str,
        stream: str,
        *,
        group: str,
        consumer: str,
        batch: int = 100,
        client_factory: ClientFactory = connect,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(url, stream, client_factory=client_factory, backoff=backoff)
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.group = group
        self.consumer = consumer
        self.batch = batch
        self.redelivered = 0
        self._group_ready = False
        # Start with this consumer's own pending entries ("0"), then new ones (">").
        self._read_pending = True
        self._unacked: list[bytes] = []
        self._delivered_ids: deque[bytes] = deque()

    def receive(self, timeout_s: float) -> bytes | None:
        """The next message, or None after ``timeout_s`` (or at once while Redis is away)."""
        if self._buffer:
            self._unacked.append(self._delivered_ids.popleft())
            return self._pop()
        if not self._wait_for_backoff(timeout_s):
            return None
        try:
            self._ack()
            self._ensure_group()
            self._fetch(timeout_s)
        except REDIS_DOWN_ERRORS as error:
            self._down(error)
            return None
        except redis.ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            # Redis restarted without persistence, or the stream was deleted: make it again.
            log.warning("consumer group %s on %s is gone; recreating it", self.group, self.stream)
            self._group_ready = False
            return None
        self.link.up()
        self._backoff.succeeded()
        if self._buffer:
            self._unacked.append(self._delivered_ids.popleft())
        return self._pop()

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            # "0": a new group starts at the oldest entry still in the (bounded) stream, so
            # positions sent before the aggregator first started are not lost.
            self._client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            log.info("created consumer group %s on %s", self.group, self.stream)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        self._group_ready = True

    def _ack(self) -> None:
        if self._unacked:
            self._client.xack(self.stream, self.group, *self._unacked)
            self._unacked.clear()

    def _fetch(self, timeout_s: float) -> None:
        if self._read_pending:
            reply = self._client.xreadgroup(self.group, self.consumer, {self.stream: "0"}, count=self.batch)
            entries = reply[0][1] if reply else []
            if entries:
                self.redelivered += len(entries)
                self._keep(entries)
                return
            self._read_pending = False
        reply = self._client.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=self.batch, block=_block_ms(timeout_s)
        )
        if reply:
            self._keep(reply[0][1])

    def _keep(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        # Skipped (malformed) entries are acknowledged at once: nobody will ever want them.
        good = [(entry_id, fields) for entry_id, fields in entries if _well_formed(fields)]
        self._unacked.extend(entry_id for entry_id, fields in entries if not _well_formed(fields))
        self._buffer.extend(self._unpack(entries))
        self._delivered_ids.extend(entry_id for entry_id, _ in good)

    def pending_count(self) -> int | None:
        """Entries delivered to the group but not acknowledged yet; None while Redis is away."""
        try:
            return int(self._client.xpending(self.stream, self.group)["pending"])
        except (redis.ResponseError, *REDIS_DOWN_ERRORS):
            return None

    def group_lag(self) -> int | None:
        """Entries in the stream not yet delivered to the group (Redis >= 7); None if unknown."""
        try:
            for info in self._client.xinfo_groups(self.stream):
                if info["name"] in (self.group, self.group.encode()):
                    lag = info.get("lag")
                    return None if lag is None else int(lag)
        except (redis.ResponseError, *REDIS_DOWN_ERRORS):
            return None
        return None


class RedisStreamSubscriber(_StreamReader):
    """Reads every new entry of a stream, without a group: each web process gets all frames.

    Args:
        url: Redis URL.
        stream: Stream key, e.g. :func:`frames_stream`.
        start_with_latest: Deliver the newest entry already in the stream first, so a web
            process that starts between two frames has something to show at once.
    """

    def __init__(
        self,
        url: str,
        stream: str,
        *,
        start_with_latest: bool = True,
        client_factory: ClientFactory = connect,
        backoff: Backoff | None = None,
    ) -> None:
        super().__init__(url, stream, client_factory=client_factory, backoff=backoff)
        self._last_id: bytes | str | None = None
        self._start_with_latest = start_with_latest

    def receive(self, timeout_s: float) -> bytes | None:
        """The next message, or None after ``timeout_s`` (or at once while Redis is away)."""
        message = self._pop()
        if message is not None:
            return message
        if not self._wait_for_backoff(timeout_s):
            return None
        try:
            if self._last_id is None:
                # A concrete id, never "$": "$" between two reads would skip what arrived in between.
                newest = self._client.xrevrange(self.stream, count=1)
                self._last_id = newest[0][0] if newest else b"0-0"
                if newest and self._start_with_latest:
                    self._buffer.extend(self._unpack(newest))
            if not self._buffer:
                reply = self._client.xread({self.stream: self._last_id}, count=100, block=_block_ms(timeout_s))
                if reply:
                    entries = reply[0][1]
                    self._last_id = entries[-1][0]
                    self._buffer.extend(self._unpack(entries))
        except REDIS_DOWN_ERRORS as error:
            self._down(error)
            return None
        self.link.up()
        self._backoff.succeeded()
        return self._pop()
