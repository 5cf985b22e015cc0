import pytest

from bus.embedded import QueueTopic


def test_topic_delivers_in_order() -> None:
    topic = QueueTopic.create(capacity=8)
    for i in range(3):
        assert topic.publish(f"m{i}".encode())
    assert [topic.receive(timeout_s=1.0) for _ in range(3)] == [b"m0", b"m1", b"m2"]
    assert topic.receive(timeout_s=0.05) is None


def test_full_topic_drops_oldest_instead_of_growing() -> None:
    topic = QueueTopic.create(capacity=4)
    for i in range(10):
        topic.publish(f"m{i}".encode())
    received = []
    while (raw := topic.receive(timeout_s=0.2)) is not None:
        received.append(raw)
    assert len(received) <= 4
    assert received[-1] == b"m9"
    assert topic.dropped >= 6


@pytest.mark.parametrize("value", ["text", {"dots": []}, bytearray(b"x"), None])
def test_topic_carries_encoded_bytes_only(value: object) -> None:
    topic = QueueTopic.create(capacity=2)
    with pytest.raises(TypeError, match="encoded bytes only"):
        topic.publish(value)  # type: ignore[arg-type]
