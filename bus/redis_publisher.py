"""The publishing end of the Redis bus: appends from a background thread, never blocks the caller.

A publisher keeps what it cannot send yet in a bounded buffer that drops its oldest message
(counted), and reconnects with backoff from its own sending thread, so ``publish`` never blocks a
camera loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from bus.backoff import Backoff
from bus.redis_link import (
    DEFAULT_BUFFER_MESSAGES,
    DEFAULT_MAX_AGE_S,
    MAX_RETENTION_S,
    MESSAGE_FIELD,
    REDIS_DOWN_ERRORS,
    ClientFactory,
    LinkState,
    connect,
    entry_ms,
)

log = logging.getLogger(__name__)

# Messages sent in one round trip.
BATCH_MESSAGES = 64
MS_PER_S = 1000


class RedisStreamPublisher:
    """Appends encoded messages to one stream from a background thread; never blocks the caller.

    Args:
        url: Redis URL.
        stream: Stream key, e.g. :func:`positions_stream`.
        maxlen: Approximate length the stream is trimmed to on every append.
        retention_s: When set, entries older than this are trimmed on every append (by Redis's own
            clock) and the whole stream expires this long after the last append, so what a stopped
            producer left behind is gone within ``retention_s`` (raw positions, PRIVACY.md P3).
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
        retention_s: float | None = None,
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
        if retention_s is not None and not 0 < retention_s <= MAX_RETENTION_S:
            raise ValueError(f"retention_s must lie in (0, {MAX_RETENTION_S}] seconds, got {retention_s}")
        self.stream = stream
        self.maxlen = maxlen
        self.retention_s = retention_s
        self.buffer_messages = buffer_messages
        self.max_age_s = max_age_s
        self.link = LinkState()
        self.sent = 0
        self.dropped = 0
        self.refused = 0
        # Redis's clock in ms, as read from the id of our last append, and our monotonic clock then.
        self._redis_clock: tuple[int, float] | None = None
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
            self._pending.append((time.monotonic(), raw))
            self._drop_beyond_buffer()
            self._cond.notify()
        return True

    def _drop_beyond_buffer(self) -> None:
        """Drop the oldest waiting messages beyond ``buffer_messages`` (lock held)."""
        while len(self._pending) > self.buffer_messages:
            self._pending.popleft()
            self.dropped += 1

    def flush(self, timeout_s: float) -> bool:
        """Wait until everything queued was sent (or dropped); True when nothing is left."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._pending or self._in_flight > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                # The sending thread notifies after every attempt.
                self._cond.wait(remaining)
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

    def _take_batch(self) -> list[tuple[float, bytes]]:
        """Up to ``BATCH_MESSAGES`` waiting messages, oldest first, minus those too old to send (lock held)."""
        taken = [self._pending.popleft() for _ in range(min(len(self._pending), BATCH_MESSAGES))]
        now = time.monotonic()
        batch = [(queued_s, raw) for queued_s, raw in taken if now - queued_s <= self.max_age_s]
        self.dropped += len(taken) - len(batch)
        self._in_flight = len(batch)
        return batch

    def _run(self) -> None:
        while True:
            with self._cond:
                # Sleep until a message waits and the backoff allows an attempt, or until closed.
                while not self._closed and not (self._pending and self._backoff.ready(time.monotonic())):
                    self._cond.wait(self._backoff.wait_s(time.monotonic()) if self._pending else None)
                if self._closed:
                    return
                batch = self._take_batch()
            try:
                self._send(batch)
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _send(self, batch: list[tuple[float, bytes]]) -> None:
        """Append one batch; on a failure, keep it for the next attempt or drop and count it."""
        if not batch:
            return
        try:
            self._append([raw for _, raw in batch])
        except REDIS_DOWN_ERRORS as error:
            self.link.down(error)
            self._backoff.failed(time.monotonic())
            with self._cond:
                # Back in front, with their original times (max_age_s still applies), the oldest
                # dropped beyond the buffer.
                self._pending.extendleft(reversed(batch))
                self._drop_beyond_buffer()
            return
        except Exception as error:  # the sending thread must outlive any refusal
            # Redis refused the commands (out of memory, no permission) or something unforeseen
            # failed: drop the batch, count it, keep the thread alive for the next one.
            log.error("redis refused %d messages for %s (%s: %s); dropped", len(batch), self.stream,
                      type(error).__name__, refusal_reason(error))  # fmt: skip
            with self._cond:
                self.dropped += len(batch)
                self.refused += len(batch)
            return
        self.link.up()
        self._backoff.succeeded()
        with self._cond:
            self.sent += len(batch)

    def _append(self, batch: list[bytes]) -> None:
        """One round trip: append the batch, then bound the stream by length and, if set, by age."""
        pipe = self._client.pipeline(transaction=False)
        if self.retention_s is None:
            for raw in batch:
                pipe.xadd(self.stream, {MESSAGE_FIELD: raw}, maxlen=self.maxlen, approximate=True)
            pipe.execute()
            return
        retention_ms = int(self.retention_s * MS_PER_S)
        now_ms = self._redis_now_ms()
        # Exact MINID trimming: approximate trimming keeps whole nodes of 100 entries, which at a few
        # messages a second would be minutes of positions.
        minid = None if now_ms is None else f"{max(0, now_ms - retention_ms)}-0"
        for raw in batch:
            pipe.xadd(self.stream, {MESSAGE_FIELD: raw}, minid=minid, approximate=False)
        pipe.xtrim(self.stream, maxlen=self.maxlen, approximate=True)
        pipe.pexpire(self.stream, retention_ms)
        replies = pipe.execute()
        # replies: one entry id per XADD, then XTRIM's and PEXPIRE's counts.
        self._redis_clock = (entry_ms(replies[-3]), time.monotonic())

    def _redis_now_ms(self) -> int | None:
        """Redis's clock now, estimated from our last append's entry id; None before the first.

        Trimming by the edge's own wall clock would trim everything (clock ahead) or nothing
        (clock behind); entry ids carry Redis's time, and elapsed time is measured locally.
        """
        if self._redis_clock is None:
            return None
        redis_ms, seen_s = self._redis_clock
        return redis_ms + int((time.monotonic() - seen_s) * MS_PER_S)


def refusal_reason(error: BaseException) -> str:
    """Why Redis refused, without the command: a pipeline's error text quotes the command and so the message."""
    # The text after the last marker, or the whole text when there is none.
    return str(error).rpartition("caused error: ")[2]
