"""The embedded bus: bounded multiprocessing queues carrying encoded messages (bytes only).

Only bytes produced by :mod:`bus.codec` travel here; receivers decode and validate every
message. A full queue drops its oldest message instead of blocking the sender or growing
without limit: a late crowding frame is worth less than the next one.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
from dataclasses import dataclass, field
from multiprocessing.context import BaseContext
from typing import Protocol

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 256


class Publisher(Protocol):
    """The sending end of a bus topic."""

    def publish(self, raw: bytes) -> bool:
        """Send one encoded message; False when it had to be dropped."""
        ...


class Subscriber(Protocol):
    """The receiving end of a bus topic."""

    def receive(self, timeout_s: float) -> bytes | None:
        """The next raw message, or None after ``timeout_s`` without one."""
        ...


@dataclass
class QueueTopic:
    """One topic of the embedded bus, shareable with child processes."""

    queue: multiprocessing.Queue
    capacity: int = DEFAULT_CAPACITY
    dropped: int = field(default=0, compare=False)

    @classmethod
    def create(cls, context: BaseContext | None = None, capacity: int = DEFAULT_CAPACITY) -> QueueTopic:
        ctx = context or multiprocessing.get_context("spawn")
        return cls(ctx.Queue(maxsize=capacity), capacity)

    def publish(self, raw: bytes) -> bool:
        if not isinstance(raw, bytes):
            raise TypeError(f"the bus carries encoded bytes only, got {type(raw).__name__}")
        for _ in range(2):
            try:
                self.queue.put_nowait(raw)
                return True
            except queue.Full:
                # Make room by discarding the oldest message. The wait covers the queue's feeder
                # thread, which may not have flushed the oldest message to the pipe yet.
                try:
                    self.queue.get(timeout=0.1)
                    self.dropped += 1
                except queue.Empty:
                    pass
        self.dropped += 1
        return False

    def detach(self) -> None:
        """Let this process exit without flushing what it still buffers for a reader that is gone.

        Without this a child blocks at exit when the reader stopped first and the pipe is full.
        """
        self.queue.cancel_join_thread()

    def receive(self, timeout_s: float) -> bytes | None:
        try:
            if timeout_s <= 0:
                return self.queue.get_nowait()
            return self.queue.get(timeout=timeout_s)
        except queue.Empty:
            return None
