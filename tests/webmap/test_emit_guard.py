"""What may be sent on each namespace (the manager asks before every emit, whatever its source)."""

import pytest

from webmap.emit_guard import EmitGuard, parse_public_room
from webmap.payload import broadcast_targets, compact_payload, floor_payload

ZONE = {"id": "gates", "count": 3, "density_per_m2": 0.42, "level": 1, "los": "B", "stale": False}
PAYLOAD = {
    "station": "demo-station",
    "timestamp": 1_795_000_000.0,
    "floors": [
        {"floor": "concourse", "dots": [[12.2, 7.8, 1], [40, 0.2, 0]], "zones": [ZONE]},
        {"floor": "platform", "dots": [], "zones": []},
    ],
}


@pytest.mark.parametrize(
    ("room", "parsed"),
    [
        ("station:demo-station", ("demo-station", None, "json")),
        ("station:demo-station:compact", ("demo-station", None, "compact")),
        ("station:demo-station:floor:platform", ("demo-station", "platform", "json")),
        ("station:demo-station:floor:platform:compact", ("demo-station", "platform", "compact")),
        ("station:Demo", None),
        ("station:demo-station:floor", None),
        ("station:demo-station:msgpack", None),
        ("demo-station", None),
        ("station:a:floor:b:c:compact", None),
        ("station:Demo:floor:platform", None),
        ("station:demo-station:floor:Platform", None),
        ("stations:demo-station:floor:platform", None),
        ("station:demo-station:floors:platform", None),
        (None, None),
        (["station:demo-station"], None),
    ],
)
def test_public_rooms_are_parsed_strictly(room, parsed):
    assert parse_public_room(room) == parsed


def test_every_room_of_an_honest_frame_passes():
    guard = EmitGuard()
    targets = broadcast_targets(PAYLOAD)
    assert len(targets) == 6
    for room, data in targets:
        assert guard.refusal("crowding", data, "/public", room) is None, room
    assert guard.refusal("crowding", PAYLOAD, "/staff", "demo-station") is None


def extra(payload, **keys):
    return {**payload, **keys}


@pytest.mark.parametrize(
    ("event", "data", "namespace", "room", "callback", "reason"),
    [
        ("crowding", PAYLOAD, "/", "station:demo-station", None, "namespace"),
        ("crowding", PAYLOAD, "/admin", "station:demo-station", None, "namespace"),
        ("crowding", PAYLOAD, "/public", "station:demo-station", ("host", "/public", 1), "callback"),
        ("notice", PAYLOAD, "/public", "station:demo-station", None, "event"),
        ("crowding", PAYLOAD, "/public", None, None, "room"),
        ("crowding", PAYLOAD, "/public", "station:pets2009", None, "room"),
        ("crowding", PAYLOAD, "/public", "station:demo-station:floor:platform", None, "room"),
        (
            "crowding",
            floor_payload(PAYLOAD, "concourse"),
            "/public",
            "station:demo-station:floor:platform",
            None,
            "room",
        ),
        ("crowding", PAYLOAD, "/public", "station:demo-station:compact", None, "schema"),
        ("crowding", compact_payload(PAYLOAD), "/public", "station:demo-station", None, "schema"),
        ("crowding", extra(PAYLOAD, image="..."), "/public", "station:demo-station", None, "schema"),
        ("crowding", extra(PAYLOAD, timestamp=float("nan")), "/public", "station:demo-station", None, "schema"),
        ("crowding", extra(PAYLOAD, timestamp=b"\xff\xd8"), "/public", "station:demo-station", None, "schema"),
        ("crowding", extra(PAYLOAD, station="Demo Station"), "/public", "station:demo-station", None, "schema"),
        ("crowding", [PAYLOAD], "/public", "station:demo-station", None, "schema"),
        ("crowding", b"\xff\xd8\xff\xe0", "/public", "station:demo-station", None, "schema"),
        ("alert", {"id": "x"}, "/public", "station:demo-station", None, "event"),
        ("camera", {"camera": "c1"}, "/staff", "station:demo-station", None, "room"),
        ("still", {"camera": "c1"}, "/staff", "demo-station", None, "event"),
        ("camera", {"camera": "c1", "jpeg": b"\xff\xd8"}, "/staff", "demo-station", None, "schema"),
        ("camera", ["c1"], "/staff", "demo-station", None, "schema"),
        ("alert", {"note": "x" * 70_000}, "/operator", "demo-station", None, "size"),
        ("crowding", extra(PAYLOAD, image="..."), "/staff", "demo-station", None, "schema"),
    ],
)
def test_anything_else_is_refused_with_its_reason(event, data, namespace, room, callback, reason):
    refused = []
    guard = EmitGuard(lambda ns, why: refused.append((ns, why)))
    assert guard.allows(event, data, namespace, room, callback) is False
    assert refused == [(namespace if namespace in ("/public", "/staff", "/operator") else "other", reason)]


@pytest.mark.parametrize(
    "dot",
    [[1, 2], [1, 2, 1, 0], [1, 2, 2], [1, 2, True], [1, "2", 1], [-0.1, 2, 1], [5000.1, 2, 1], [1, 2, 1.0]],
)
def test_a_dot_is_exactly_two_plan_coordinates_and_a_moving_bit(dot):
    payload = {**PAYLOAD, "floors": [{"floor": "concourse", "dots": [dot], "zones": []}]}
    assert EmitGuard().refusal("crowding", payload, "/public", "station:demo-station") == "schema"


@pytest.mark.parametrize(
    ("change", "ok"),
    [
        ({}, True),
        ({"count": 4}, False),  # 4 dots need 17 bytes, the string holds 9
        ({"per_m": 100}, False),
        ({"packed": "not base64!"}, False),
        ({"extra": 1}, False),
    ],
)
def test_packed_dots_must_hold_exactly_their_count(change, ok):
    compact = compact_payload(PAYLOAD)
    floor = compact["floors"][0]
    data = {**compact, "floors": [{**floor, "dots": {**floor["dots"], **change}}]}
    assert (EmitGuard().refusal("crowding", data, "/public", "station:demo-station:compact") is None) is ok


def test_the_staff_size_bound_is_exact():
    guard = EmitGuard()
    overhead = len('{"note":""}')
    at_bound = {"note": "x" * (64 * 1024 - overhead)}
    assert guard.refusal("alert", at_bound, "/staff", "demo-station") is None
    assert guard.refusal("alert", {"note": at_bound["note"] + "x"}, "/staff", "demo-station") == "size"


def test_a_refusal_is_logged_in_one_short_line_without_the_data(caplog):
    guard = EmitGuard()
    with caplog.at_level("WARNING", logger="webmap.emit_guard"):
        assert not guard.allows("e" * 100, {"secret": "payload"}, "/public", "r" * 100)
        assert not guard.allows("crowding", {}, "/" + "n" * 100, "room")
    first, second = caplog.records
    assert first.getMessage() == f"refused to send {'e' * 40!r} to /public room {'r' * 80!r}: event"
    assert "payload" not in first.getMessage()
    assert second.getMessage() == f"refused to send 'crowding' to {'/' + 'n' * 39} room 'room': namespace"


def test_the_schema_check_names_where_a_payload_fails():
    from webmap.schemas import Crowding, check

    bad_floor = {**PAYLOAD, "floors": [{**PAYLOAD["floors"][0], "floor": "Concourse"}]}
    assert check(Crowding, bad_floor).startswith("floors.0.floor: String should match pattern")
    assert check(Crowding, {**PAYLOAD, "timestamp": float("nan")}) == "not JSON: ValueError"
    assert check(Crowding, {**PAYLOAD, "timestamp": b"\x00"}) == "not JSON: TypeError"
    assert check(Crowding, PAYLOAD) is None
    assert EmitGuard().refusal("alert", {"density_per_m2": float("nan")}, "/staff", "demo-station") == "schema"
