import pytest

from webmap.alerts import AlertBook


def feed(book, zone_id, steps, wm):
    """Feed (level, density, stale) steps; returns the list of (raised/cleared/worse, level) per step."""
    events = []
    for t, (level, density, stale) in enumerate(steps):
        changed = book.update([wm.make_zone(zone_id, level, density, stale=stale)], float(t))
        events.append([("cleared" if not a.active else "active", a.level) for a in changed])
    return events


# concourse-west is a walkway zone: public bounds are Fruin B/C/D upper bounds 0.43, 0.72, 1.08 unless overridden.
@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        # enters crowded (level 2) once, stays: one alert, not one per frame
        ([(2, 0.8, False), (2, 0.8, False), (2, 0.75, False)], [[("active", 2)], [], []]),
        # dips just under the bound (still above bound - 10 %): no clear, no new alert
        ([(2, 0.8, False), (1, 0.70, False), (2, 0.8, False)], [[("active", 2)], [], []]),
        # falls clearly below: cleared; enters again: a new alert
        ([(2, 0.8, False), (1, 0.5, False), (2, 0.8, False)], [[("active", 2)], [("cleared", 2)], [("active", 2)]]),
        # worsens to very crowded: the same alert, level 3
        ([(2, 0.8, False), (3, 1.2, False)], [[("active", 2)], [("active", 3)]]),
        # a stale zone neither raises nor clears
        ([(3, 2.0, True), (2, 0.8, False), (0, 0.0, True)], [[], [("active", 2)], []]),
        # below the configured level: nothing
        ([(1, 0.5, False), (0, 0.1, False)], [[], []]),
    ],
)
def test_alert_hysteresis(demo_layout, wm, steps, expected):
    book = AlertBook("demo-station", demo_layout.zones, alert_level=2)
    assert feed(book, "concourse-west", steps, wm) == expected


def test_acknowledge_keeps_the_alert_and_names_the_user(demo_layout, wm):
    book = AlertBook("demo-station", demo_layout.zones, alert_level=2)
    [alert] = book.update([wm.make_zone("ticket-gates", 2, 0.8)], 10.0)
    acked = book.acknowledge(alert.alert_id, "sam", 12.0)
    assert (acked.acknowledged_by, acked.acknowledged_at, acked.active) == ("sam", 12.0, True)
    assert book.alerts()[0] == acked
    [cleared] = book.update([wm.make_zone("ticket-gates", 0, 0.1)], 20.0)
    assert cleared.acknowledged_by == "sam" and not cleared.active
    with pytest.raises(KeyError, match=r"no alert 'ticket-gates@99\.000'"):
        book.acknowledge("ticket-gates@99.000", "sam", 21.0)


def test_books_fed_the_same_frames_name_alerts_alike_and_share_acknowledgements(demo_layout, wm):
    """Two web processes: an acknowledgement made through one applies in the other."""
    first, second = (AlertBook("demo-station", demo_layout.zones, alert_level=2) for _ in range(2))
    for book in (first, second):
        book.update([wm.make_zone("ticket-gates", 2, 0.8), wm.make_zone("stairs-landing", 3, 2.0)], 10.25)
    assert [a.alert_id for a in first.alerts()] == [a.alert_id for a in second.alerts()]
    assert {a.alert_id for a in first.alerts()} == {"ticket-gates@10.250", "stairs-landing@10.250"}
    first.acknowledge("ticket-gates@10.250", "sam", 12.0)
    acks = {a.alert_id: (a.acknowledged_by, a.acknowledged_at) for a in first.alerts() if a.acknowledged_by}
    [taken] = second.apply_acks({**acks, "platform-west@1.000": ("kim", 3.0)})
    assert (taken.alert_id, taken.acknowledged_by, taken.acknowledged_at) == ("ticket-gates@10.250", "sam", 12.0)
    assert second.apply_acks(acks) == [], "applied once"
    # The acknowledgement survives the alert worsening in the other book.
    [worse] = second.update([wm.make_zone("ticket-gates", 3, 2.5)], 11.0)
    assert (worse.level, worse.acknowledged_by) == (3, "sam")


@pytest.mark.parametrize("level", [0, 4])
def test_alert_level_must_be_1_to_3(demo_layout, level):
    with pytest.raises(ValueError, match="alert_level must be 1, 2 or 3"):
        AlertBook("demo-station", demo_layout.zones, alert_level=level)
