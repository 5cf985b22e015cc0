"""Web tier settings, read from the environment (secrets and ports never live in layout files).

Every variable is optional; the account variables (data folder, secret key, cookies, login
limits, trusted proxies) are :mod:`accounts.settings`'s, shared with the calibration tool:

=============================  ==========================================================  ==========
variable                       meaning                                                     default
=============================  ==========================================================  ==========
``CROWDMAP_HOST``              address the web server binds                                127.0.0.1
``CROWDMAP_PORT``              port the web server binds                                   8000
``CROWDMAP_MESSAGE_QUEUE``     ``redis://...`` to share broadcasts, sessions and login      (none)
                               failures between web processes
``CROWDMAP_DEPLOYMENT``        name of this installation (an id), part of the channel      (none)
                               name of the message queue
``CROWDMAP_ASYNC_MODE``        ``gevent`` (serving) or ``threading`` (tests, tools)        gevent
``CROWDMAP_ALERT_LEVEL``       public level 1-3 at which staff get an alert                2
``CROWDMAP_MAX_BACKLOG``       frames queued for one client before it starts dropping      4
``CROWDMAP_DIRECT_WRITES``     ``0``: broadcasts take python-socketio's per-client queue   1
``CROWDMAP_PRIVATE_LIBRARY_    ``0``: no private library parts (:mod:`webmap.internals`):  1
ACCESS``                       no direct writes, no backlog bound, public paths only
``CROWDMAP_CALIBRATOR_URL``    where operators reach the calibration tool (an SSH tunnel   http://127.0.0.1:8100/
                               to the camera's edge node), linked from ``/operator``
=============================  ==========================================================  ==========
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from accounts.settings import AccountSettings, env_flag, env_int, stored_secret
from station.ids import ID_PATTERN, is_id

ASYNC_MODES = ("gevent", "threading")
_ACCOUNT_FIELDS = tuple(f.name for f in fields(AccountSettings) if f.name != "redis_url")


# The calibration tool's own default address (crowdmap calibrate), reached through an SSH tunnel.
DEFAULT_CALIBRATOR_URL = "http://127.0.0.1:8100/"


@dataclass(frozen=True)
class WebSettings:
    """Settings of one web process.

    Attributes:
        host: Address to bind.
        port: Port to bind.
        data_dir: Folder for ``users.sqlite3`` and a generated secret key.
        secret_key: Flask secret; ``None`` means "read or generate one in ``data_dir``".
        cookie_secure: Send the session cookie over HTTPS only (browsers also accept it on localhost).
        message_queue: Redis URL shared by all web processes, or ``None`` for a single process.
        deployment: Name of this installation (an id, or empty); it names the message queue's
            channel, so two installations sharing one Redis never see each other's broadcasts.
        async_mode: ``gevent`` to serve thousands of websockets, ``threading`` for tests.
        alert_level: Public crowding level (1-3) at which a zone raises a staff alert.
        login_max_fails: Failed logins allowed per window from one address or trusted device.
        login_user_max_fails: Failed logins allowed per window on one name from unknown devices.
        login_window_s: Length of the rate-limit window, seconds.
        proxy_hops: Trusted reverse proxies in front (see :mod:`accounts.settings`).
        max_backlog: Crowding frames queued for one client before new ones are dropped for it.
        direct_writes: Under gevent, write each broadcast frame straight to every client's socket
            (framed once) instead of through python-socketio's per-client queue and greenlet.
        private_library_access: Use the private library parts fenced in :mod:`webmap.internals`
            (they are also turned off when their contracts fail).
        calibrator_url: Where operators reach the calibration tool (it runs on the edge node,
            bound to loopback; operators tunnel to it), linked from the operator page.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = AccountSettings.data_dir
    secret_key: str | None = None
    cookie_secure: bool = True
    message_queue: str | None = None
    deployment: str = ""
    async_mode: str = "gevent"
    alert_level: int = 2
    login_max_fails: int = 5
    login_user_max_fails: int = 20
    login_window_s: int = 300
    proxy_hops: int = 0
    max_backlog: int = 4
    direct_writes: bool = True
    private_library_access: bool = True
    calibrator_url: str = DEFAULT_CALIBRATOR_URL

    def __post_init__(self) -> None:
        if self.async_mode not in ASYNC_MODES:
            raise ValueError(f"async_mode must be one of {ASYNC_MODES}, got {self.async_mode!r}")
        if not 1 <= self.alert_level <= 3:
            raise ValueError(f"alert_level must be 1, 2 or 3, got {self.alert_level}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must lie in [1, 65535], got {self.port}")
        if self.message_queue is not None and not self.message_queue.startswith(("redis://", "rediss://")):
            raise ValueError(f"message_queue must be a redis:// or rediss:// URL, got {self.message_queue!r}")
        if self.deployment and not is_id(self.deployment):
            raise ValueError(f"deployment must be empty or an id matching {ID_PATTERN}, got {self.deployment!r}")
        if not self.calibrator_url.startswith(("http://", "https://")):
            raise ValueError(f"calibrator_url must be an http:// or https:// URL, got {self.calibrator_url!r}")
        if self.max_backlog < 1:
            raise ValueError(f"max_backlog must be >= 1, got {self.max_backlog}")
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        self.accounts  # noqa: B018  # the account fields are validated where they are defined

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        """Settings from ``CROWDMAP_*`` variables (see the module docstring).

        Raises:
            ValueError: naming the variable whose value is invalid.
        """
        env = os.environ if env is None else env
        found: dict[str, object] = AccountSettings.fields_from_env(env)
        if "CROWDMAP_HOST" in env:
            found["host"] = env["CROWDMAP_HOST"]
        if "CROWDMAP_PORT" in env:
            found["port"] = env_int(env["CROWDMAP_PORT"], "CROWDMAP_PORT", 1, 65535)
        if env.get("CROWDMAP_MESSAGE_QUEUE"):
            found["message_queue"] = env["CROWDMAP_MESSAGE_QUEUE"]
        if env.get("CROWDMAP_DEPLOYMENT"):
            found["deployment"] = env["CROWDMAP_DEPLOYMENT"]
        if "CROWDMAP_ASYNC_MODE" in env:
            found["async_mode"] = env["CROWDMAP_ASYNC_MODE"]
        if "CROWDMAP_ALERT_LEVEL" in env:
            found["alert_level"] = env_int(env["CROWDMAP_ALERT_LEVEL"], "CROWDMAP_ALERT_LEVEL", 1, 3)
        if "CROWDMAP_MAX_BACKLOG" in env:
            found["max_backlog"] = env_int(env["CROWDMAP_MAX_BACKLOG"], "CROWDMAP_MAX_BACKLOG", 1, 1000)
        if "CROWDMAP_DIRECT_WRITES" in env:
            found["direct_writes"] = env_flag(env["CROWDMAP_DIRECT_WRITES"], "CROWDMAP_DIRECT_WRITES")
        if "CROWDMAP_PRIVATE_LIBRARY_ACCESS" in env:
            found["private_library_access"] = env_flag(
                env["CROWDMAP_PRIVATE_LIBRARY_ACCESS"], "CROWDMAP_PRIVATE_LIBRARY_ACCESS"
            )
        if env.get("CROWDMAP_CALIBRATOR_URL"):
            found["calibrator_url"] = env["CROWDMAP_CALIBRATOR_URL"]
        return cls(**found)  # type: ignore[arg-type]

    @property
    def accounts(self) -> AccountSettings:
        """The account settings of this web process (sessions and login failures in the message queue's Redis)."""
        return AccountSettings(
            **{name: getattr(self, name) for name in _ACCOUNT_FIELDS},  # type: ignore[arg-type]
            redis_url=self.message_queue,
        )

    @property
    def users_db(self) -> Path:
        """The SQLite file holding staff and operator accounts."""
        return self.accounts.users_db

    def with_secret(self) -> WebSettings:
        """These settings with a secret key: the given one, else one kept in ``data_dir``.

        A generated key is written once (mode 0600) and reused, so sessions survive a restart
        and every web process of one installation shares it.
        """
        return replace(self, secret_key=stored_secret(self.data_dir, self.secret_key))
