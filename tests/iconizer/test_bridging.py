"""A camera's one-message misses bridged in the dots (iconizer.bridging and the iconizer's use of it)."""

import numpy as np
import pytest
from shapely.geometry import box

from homography.types import FloorPositions
from iconizer.bridging import SAME_PERSON_M, bridge_misses
from iconizer.stepper import Iconizer


def _message(t, xy, confidence=None):
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    conf = np.ones(len(xy)) if confidence is None else np.asarray(confidence, dtype=np.float64)
    return FloorPositions("cam-w", "hall", t, xy, conf, np.full(len(xy), 0.2))


THREE = [[2.0, 7.0], [5.0, 7.0], [8.0, 7.0]]


def test_a_person_missed_in_the_latest_message_is_shown_at_their_latest_earlier_position():
    messages = [_message(0.1 * k, np.add(THREE, [0.0, 0.1 * k])) for k in range(6)]
    messages.append(_message(0.6, [[2.0, 7.6], [8.0, 7.6]]))  # the middle one missed (6 x 3 + 2) / 7 -> 3
    out = bridge_misses(messages)
    assert out.timestamp_s == 0.6 and out.camera_id == "cam-w"
    np.testing.assert_allclose(out.xy_m, [[2.0, 7.6], [8.0, 7.6], [5.0, 7.5]])  # from the newest earlier message


def test_nothing_is_added_when_the_latest_message_holds_the_mean_or_more():
    messages = [_message(0.1 * k, THREE[: 1 + k % 2]) for k in range(6)] + [_message(0.6, THREE)]
    assert bridge_misses(messages) is messages[-1]  # more than the mean: every person kept, none removed
    steady = [_message(0.1 * k, THREE) for k in range(7)]
    assert bridge_misses(steady) is steady[-1]
    assert bridge_misses(steady[:1]) is steady[0]


def test_only_as_many_as_the_rounded_mean_asks_for():
    # 4 messages of 3 people, 3 of 1: mean 15 / 7 = 2.14 -> 2 shown, one bridged, not two.
    messages = [_message(0.1 * k, THREE) for k in range(4)] + [_message(0.4 + 0.1 * k, THREE[:1]) for k in range(3)]
    assert len(bridge_misses(messages).xy_m) == 2
    # Halves up: 3 and 3 against 2 and 2 -> 2.5 -> 3.
    halves = [_message(0.0, THREE), _message(0.1, THREE), _message(0.2, THREE[:2]), _message(0.3, THREE[:2])]
    assert len(bridge_misses(halves).xy_m) == 3


def test_an_earlier_position_near_someone_shown_is_not_bridged():
    # The latest message shows one person, who moved 0.4 m; the earlier position of that same person
    # is not a second person. Only the one farther than SAME_PERSON_M comes back.
    near, far = [5.0, 7.0], [5.0 + SAME_PERSON_M + 0.5, 7.0]
    messages = [_message(0.1 * k, [near, far]) for k in range(6)] + [_message(0.6, [[5.4, 7.0]])]
    np.testing.assert_allclose(bridge_misses(messages).xy_m, [[5.4, 7.0], far])
    # Everyone earlier is next to someone shown: nothing to bridge, even below the mean.
    crowded = [_message(0.1 * k, [[5.0, 7.0], [5.5, 7.0]]) for k in range(6)] + [_message(0.6, [[5.2, 7.0]])]
    assert len(bridge_misses(crowded).xy_m) == 1


def test_the_most_confident_earlier_positions_come_first_and_keep_their_own_confidence():
    earlier = _message(0.0, [[1.0, 1.0], [4.0, 1.0], [7.0, 1.0]], confidence=[0.4, 0.9, 0.6])
    out = bridge_misses([earlier, earlier, _message(0.1, [])] * 1)  # 6 / 3 = 2 missing
    np.testing.assert_allclose(out.xy_m, [[4.0, 1.0], [7.0, 1.0]])
    np.testing.assert_allclose(out.confidence, [0.9, 0.6])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="at least one"):
        bridge_misses([])
    with pytest.raises(ValueError, match="positive"):
        bridge_misses([_message(0.0, THREE)], same_person_m=0.0)


def _iconizer(layout, **options):
    return Iconizer(layout, coverage={"cam-w": box(0, 0, 10, 10)}, rng=np.random.default_rng(0), **options)


def test_the_iconizer_shows_as_many_dots_as_the_interval_counted(toy_layout):
    # A miss of one message: the zone count (mean) says 3 and so do the dots; without bridging, 2 dots.
    for bridge, dots in ((True, 3), (False, 2)):
        iconizer = _iconizer(toy_layout, bridge_misses=bridge)
        for k in range(6):
            iconizer.ingest(_message(10.0 + 0.1 * k, THREE))
        iconizer.ingest(_message(10.6, [THREE[0], THREE[2]]))
        hall = iconizer.step(10.6)[0]
        assert (hall.zone("west").count, len(hall.dots_m)) == (3, dots), bridge
    # Someone who left for good is gone once most of the interval no longer has them.
    iconizer = _iconizer(toy_layout)
    for k in range(16):  # 8 messages a second (exact in binary), the third person gone from k = 8
        iconizer.ingest(_message(20.0 + 0.125 * k, THREE if k < 8 else THREE[:2]))
        shown = len(iconizer.step(20.0 + 0.125 * k)[0].dots_m)
        assert shown == (3 if k <= 11 else 2), k  # shown while at least half the interval had them (halves up)


def test_no_interval_no_bridging(toy_layout):
    iconizer = _iconizer(toy_layout, count_window_s=0.0)
    assert not iconizer.bridge_misses
    iconizer.ingest(_message(1.0, THREE))
    iconizer.ingest(_message(1.1, THREE[:1]))
    assert len(iconizer.step(1.1)[0].dots_m) == 1


def test_the_spatial_index_agrees_with_all_pairs():
    from iconizer.bridging import _farther_than

    rng = np.random.default_rng(5)
    for m, k in ((0, 5), (5, 0), (40, 60), (200, 150)):
        points, others = rng.uniform(0, 20, size=(m, 2)), rng.uniform(0, 20, size=(k, 2))
        pairs = np.sqrt(((points[:, None, :] - others[None, :, :]) ** 2).sum(axis=2))
        expected = (pairs > 1.0).all(axis=1) if k else np.ones(m, dtype=bool)
        np.testing.assert_array_equal(_farther_than(points, others, 1.0), expected)
