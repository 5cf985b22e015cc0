"""Builders shared by the runtime tests."""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest


@dataclass
class ListPublisher:
    """A bus topic that keeps what is published, in order."""

    sent: list[bytes] = field(default_factory=list)

    def publish(self, raw: bytes) -> bool:
        self.sent.append(raw)
        return True


@pytest.fixture
def make_publisher() -> Callable[[], ListPublisher]:
    return ListPublisher
