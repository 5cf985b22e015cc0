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


def test_zone_alerts_carry_floor_and_peak(demo_layout, wm):
    book = AlertBook("demo-station", demo_layout.zones, alert_level=2)
    [raised] = book.update([wm.make_zone("platform-west", 2, 1.2)], 10.0)
    assert (raised.kind, raised.floor_id, raised.zones, raised.peak_density_per_m2) == (
        "zone",
        "platform",
        ("platform-west",),
        1.2,
    )
    # A small rise is kept quietly, a clear one is sent; the peak outlives the surge.
    assert book.update([wm.make_zone("platform-west", 2, 1.25)], 11.0) == []
    [higher] = book.update([wm.make_zone("platform-west", 2, 1.5)], 12.0)
    assert higher.peak_density_per_m2 == 1.5 and higher.level == 2
    [cleared] = book.update([wm.make_zone("platform-west", 0, 0.2)], 20.0)
    assert (cleared.peak_density_per_m2, cleared.cleared_at, cleared.raised_at) == (1.5, 20.0, 10.0)
    assert cleared.to_dict()["peak_density_per_m2"] == 1.5 and cleared.to_dict()["floor"] == "platform"


def test_a_dead_camera_raises_an_alert_naming_its_zones_until_it_is_live(demo_layout, wm):
    from iconizer.types import CameraStatus

    book = AlertBook(
        "demo-station",
        demo_layout.zones,
        alert_level=2,
        cameras=demo_layout.cameras,
        camera_zones={"platform-west": ["platform-west", "platform-stairs"]},
    )
    assert book.update_camera(CameraStatus("platform-west", 5.0, "live", 10.0, 0.1)) is None
    raised = book.update_camera(CameraStatus("platform-west", 6.0, "dead", 0.0, error="stream_lost"))
    assert (raised.kind, raised.camera_id, raised.camera_state, raised.floor_id) == (
        "camera",
        "platform-west",
        "dead",
        "platform",
    )
    assert raised.zones == ("platform-west", "platform-stairs")
    assert raised.alert_id == "camera:platform-west@6.000", "not confused with the zone of the same id"
    assert book.update_camera(CameraStatus("platform-west", 7.0, "reconnecting")) is None, "still down"
    assert book.update_camera(CameraStatus("platform-west", 8.0, "dead")) is None, "one alert, not one per report"
    cleared = book.update_camera(CameraStatus("platform-west", 9.0, "live", 10.0, 0.1))
    assert cleared.alert_id == raised.alert_id and cleared.cleared_at == 9.0
    stalled = book.update_camera(CameraStatus("platform-west", 30.0, "stalled", 0.0, 12.0))
    assert stalled.camera_state == "stalled" and stalled.active
    assert book.update_camera(CameraStatus("nowhere", 31.0, "dead")) is None


def test_without_coverage_a_camera_alert_takes_the_zones_that_go_stale_on_its_floor(demo_layout, wm):
    from iconizer.types import CameraStatus

    book = AlertBook("demo-station", demo_layout.zones, alert_level=2, cameras=demo_layout.cameras)
    raised = book.update_camera(CameraStatus("platform-east", 6.0, "dead"))
    assert raised.zones == ()
    [named] = book.update(
        [
            wm.make_zone("platform-east", stale=True),
            wm.make_zone("platform-west"),
            wm.make_zone("ticket-gates", stale=True),
        ],
        7.0,
    )
    assert named.alert_id == raised.alert_id and named.zones == ("platform-east",), "its floor's stale zones only"


def test_a_book_restores_stored_alerts(demo_layout, wm):
    from webmap.alerts import alert_from_dict

    first = AlertBook("demo-station", demo_layout.zones, alert_level=2, cameras=demo_layout.cameras)
    first.update([wm.make_zone("ticket-gates", 2, 0.8)], 1.0)
    [old] = first.update([wm.make_zone("ticket-gates", 0, 0.1)], 2.0)
    assert not old.active
    [active] = first.update([wm.make_zone("stairs-landing", 3, 2.0)], 3.0)
    first.acknowledge(active.alert_id, "sam", 4.0)
    stored = [alert_from_dict(a.to_dict()) for a in first.alerts()]
    assert stored == first.alerts()
    second = AlertBook("demo-station", demo_layout.zones, alert_level=2, cameras=demo_layout.cameras)
    second.restore([*stored, *stored])
    assert second.alerts() == first.alerts()
    # The restored active alert goes on: it clears when the zone calms down.
    [cleared] = second.update([wm.make_zone("stairs-landing", 0, 0.1)], 9.0)
    assert cleared.alert_id == active.alert_id and cleared.acknowledged_by == "sam"


@pytest.mark.parametrize(
    "record",
    [{"station": "demo-station", "raised_at": 1.0}, {"id": "x", "station": "s", "raised_at": 1.0, "kind": "fire"}],
)
def test_malformed_stored_alerts_are_refused(record):
    from webmap.alerts import alert_from_dict

    with pytest.raises(ValueError, match="alert"):
        alert_from_dict(record)
