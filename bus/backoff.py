"""The one backoff of the project: growing waits between retries, reset by success.

Every retry loop uses it: Redis reconnects (:mod:`bus.redis_link`), camera reconnects
(:mod:`detector.sources`), rebuilding a failed camera worker and restarting the aggregator loop
(:mod:`crowdmap.tiers`), restarting a dead child process (:mod:`crowdmap.processes`). It imports
nothing but the standard library, so every package may use it, the detector included
(``tests/test_architecture.py`` states the rule).

A loop that recovers for a while and then fails again should start over at the shortest wait,
not where its last outage ended: :meth:`Backoff.failed` forgets earlier failures once the loop
has been healthy for ``reset_after_s`` (when set).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Redis reconnects: fast at first (a blip), never slower than 5 s (a restart).
RECONNECT_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
# Rebuilding something heavy (a camera worker, a child process): slower, up to 30 s.
RESTART_S = (1.0, 2.0, 5.0, 10.0, 30.0)
# A camera stream that dropped: reconnect soon, then back off to 30 s.
CAMERA_RECONNECT_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
# A loop that crashed on its input (the aggregator): restart quickly, a bad message is skipped.
LOOP_RESTART_S = (0.5, 1.0, 2.0, 5.0)
# A loop or process that ran this long without failing starts its backoff over at the shortest wait.
HEALTHY_AFTER_S = 60.0


@dataclass
class Backoff:
    """Growing waits between attempts, reset by a success.

    Attributes:
        delays_s: The wait after the 1st, 2nd, ... consecutive failure; the last one repeats.
        reset_after_s: When set, a failure that comes this long after the retry it waited for
            (the loop ran healthily in between) counts as the first again.
        failures: Consecutive failures so far.
        next_try_s: Clock time before which no new attempt should be made.
    """

    delays_s: Sequence[float] = RECONNECT_S
    reset_after_s: float | None = None
    failures: int = 0
    next_try_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.delays_s or any(d <= 0 for d in self.delays_s):
            raise ValueError(f"delays_s must be a non-empty list of positive seconds, got {list(self.delays_s)}")
        if self.reset_after_s is not None and self.reset_after_s <= 0:
            raise ValueError(f"reset_after_s must be positive seconds or None, got {self.reset_after_s}")

    def ready(self, now_s: float) -> bool:
        """True when the next attempt may be made."""
        return now_s >= self.next_try_s

    def wait_s(self, now_s: float) -> float:
        """Seconds until the next attempt may be made."""
        return max(0.0, self.next_try_s - now_s)

    def failed(self, now_s: float) -> float:
        """Record a failure at ``now_s``; returns the wait before the next attempt."""
        # Since next_try_s the loop was allowed to run again; it ran healthily until now_s.
        if self.reset_after_s is not None and self.failures and now_s - self.next_try_s >= self.reset_after_s:
            self.failures = 0
        delay = self.delays_s[min(self.failures, len(self.delays_s) - 1)]
        self.failures += 1
        self.next_try_s = now_s + delay
        return delay

    def succeeded(self) -> None:
        """Record a success: the next failure waits the shortest delay again."""
        self.failures = 0
        self.next_try_s = 0.0
