"""Least-privilege Redis accounts for the three roles of a scale-out station (Redis >= 7 ACLs).

Whoever holds a role's password can do what the role does and nothing else:

- ``edge``: append to its station's positions stream (and trim it, and set its expiry); read
  nothing. With ``simulated=True`` also the shared simulation start (the demo station only).
- ``aggregator``: read the positions stream through its consumer group; append to the frames stream.
- ``web``: read the frames stream (never the positions: raw positions must not reach the publishing
  tier, PRIVACY.md P1); publish and subscribe on its deployment's message-queue channel; the relay
  lease, the latest frame, alert acknowledgements, and the staff sessions and login counters.

Every role may run ``INFO`` (the start-up persistence check) and ``PING``; none may read the
configuration, list or scan keys, flush, or run anything on other stations' keys. docs/DEPLOYMENT.md
shows the commands; tests/bus/test_acl.py runs each role against a real Redis with its account.
"""

from __future__ import annotations

from bus.redis_link import frames_stream, positions_stream, socketio_channel

ROLES = ("edge", "aggregator", "web")
_BASE = ("resetkeys", "resetchannels", "-@all", "+info", "+ping")


def acl_rules(
    role: str, station_id: str, *, redis_url: str, deployment: str = "", simulated: bool = False
) -> list[str]:
    """The ``ACL SETUSER`` rules of ``role`` for one station (password and ``on`` not included).

    Args:
        role: One of :data:`ROLES`.
        station_id: The station the account serves.
        redis_url: The URL the web processes use (its database names their message-queue channel).
        deployment: ``CROWDMAP_DEPLOYMENT`` of the web processes.
        simulated: The station's cameras are simulated (the edge shares the simulation's start).

    Raises:
        ValueError: for an unknown role.
    """
    positions = positions_stream(station_id)
    frames = frames_stream(station_id)
    if role == "edge":
        rules = [*_BASE, "+xadd", "+xtrim", "+pexpire", f"~{positions}"]
        if simulated:
            rules.append(f"(+set +get ~crowdmap:{station_id}:sim-epoch)")
        return rules
    if role == "aggregator":
        group = ["+xreadgroup", "+xack", "+xgroup|create", "+xpending", "+xinfo|groups"]
        return [*_BASE, *group, f"~{positions}", f"(+xadd %W~{frames})"]
    if role == "web":
        channel = socketio_channel(redis_url, [station_id], deployment)
        return [
            *_BASE,
            "+xread",
            "+xrevrange",
            f"%R~{frames}",
            f"(+publish +subscribe +unsubscribe &{channel})",
            f"(+evalsha +script|load +get +set +pexpire +del ~crowdmap:{station_id}:web-relay)",
            f"(+get +set ~crowdmap:latest:{station_id})",
            f"(+hset +hgetall +hdel +expire ~crowdmap:alert-acks:{station_id})",
            # Staff sessions and login failures (accounts/): shared by every web process.
            "(+get +set +del +zrangebyscore +zremrangebyscore +zadd +expire ~crowdmap:session:* "
            "~crowdmap:login-fails:*)",
        ]
    raise ValueError(f"role must be one of {ROLES}, got {role!r}")
