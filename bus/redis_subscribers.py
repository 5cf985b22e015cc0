"""The receiving ends of the Redis bus: a consumer-group reader and a fan-out reader.

A subscriber returns ``None`` while Redis is away and reconnects with backoff; a stream or group
lost with a restarted Redis is recreated. An entry that is not exactly one ``m`` field is counted
and skipped, never delivered.
"""

from __future__ import annotations

import logging
import time
from collections import deque

import redis

from bus.backoff import Backoff
from bus.redis_link import MAX_BLOCK_S, MESSAGE_FIELD, REDIS_DOWN_ERRORS, ClientFactory, LinkState, connect, entry_age_s

log = logging.getLogger(__name__)


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
        self.expired = 0
        self.last_lag_s = 0.0
        self._client = client_factory(url)
        self._backoff = backoff or Backoff()
        self._buffer: deque[bytes] = deque()

    def _unpack(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[bytes]:
        """Payloads of the entries; an entry that is not exactly ``{m: bytes}`` is counted and skipped."""
        now = time.time()
        out = []
        for entry_id, fields in entries:
            if fields is None:
                # A pending entry trimmed away by age before it was acknowledged: nothing to read.
                self.expired += 1
                continue
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
