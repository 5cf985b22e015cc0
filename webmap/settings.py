"""Web tier settings, read from the environment (secrets and ports never live in layout files).

Every variable is optional; ``WebSettings.from_env()`` documents the names:

=============================  ==========================================================  ==========
variable                       meaning                                                     default
=============================  ==========================================================  ==========
``CROWDMAP_HOST``              address the web server binds                                127.0.0.1
``CROWDMAP_PORT``              port the web server binds                                   8000
``CROWDMAP_DATA_DIR``          folder for the user database and the generated secret       platform data dir
``CROWDMAP_SECRET_KEY``        Flask secret (sessions, CSRF); generated and kept if unset  (generated)
``CROWDMAP_COOKIE_SECURE``     ``0`` only for plain-HTTP deployments other than localhost  1
``CROWDMAP_MESSAGE_QUEUE``     ``redis://...`` to share broadcasts between web processes   (none)
``CROWDMAP_ASYNC_MODE``        ``gevent`` (serving) or ``threading`` (tests, tools)        gevent
``CROWDMAP_ALERT_LEVEL``       public level 1-3 at which staff get an alert                2
``CROWDMAP_LOGIN_MAX_FAILS``   failed logins allowed per window, per address and per user  5
``CROWDMAP_LOGIN_WINDOW_S``    the rate-limit window                                       300
``CROWDMAP_MAX_BACKLOG``       frames queued for one client before it starts dropping      4
``CROWDMAP_DIRECT_WRITES``     ``0``: broadcasts take python-socketio's per-client queue   1
=============================  ==========================================================  ==========
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

ASYNC_MODES = ("gevent", "threading")
SECRET_FILE = "web-secret-key"


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1/0, true/false, yes/no or on/off, got {value!r}")


def _int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {number}")
    return number


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
        async_mode: ``gevent`` to serve thousands of websockets, ``threading`` for tests.
        alert_level: Public crowding level (1-3) at which a zone raises a staff alert.
        login_max_fails: Failed logins allowed per window, per client address and per user name.
        login_window_s: Length of the rate-limit window, seconds.
        max_backlog: Crowding frames queued for one client before new ones are dropped for it.
        direct_writes: Under gevent, write each broadcast frame straight to every client's socket
            (framed once) instead of through python-socketio's per-client queue and greenlet.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(platformdirs.user_data_dir("crowdmap"))
    secret_key: str | None = None
    cookie_secure: bool = True
    message_queue: str | None = None
    async_mode: str = "gevent"
    alert_level: int = 2
    login_max_fails: int = 5
    login_window_s: int = 300
    max_backlog: int = 4
    direct_writes: bool = True

    def __post_init__(self) -> None:
        if self.async_mode not in ASYNC_MODES:
            raise ValueError(f"async_mode must be one of {ASYNC_MODES}, got {self.async_mode!r}")
        if not 1 <= self.alert_level <= 3:
            raise ValueError(f"alert_level must be 1, 2 or 3, got {self.alert_level}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must lie in [1, 65535], got {self.port}")
        if self.secret_key is not None and len(self.secret_key) < 16:
            raise ValueError(f"the secret key must have at least 16 characters, got {len(self.secret_key)}")
        if self.message_queue is not None and not self.message_queue.startswith(("redis://", "rediss://")):
            raise ValueError(f"message_queue must be a redis:// or rediss:// URL, got {self.message_queue!r}")
        if self.max_backlog < 1:
            raise ValueError(f"max_backlog must be >= 1, got {self.max_backlog}")
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        """Settings from ``CROWDMAP_*`` variables (see the module docstring).

        Raises:
            ValueError: naming the variable whose value is invalid.
        """
        env = os.environ if env is None else env
        fields: dict[str, object] = {}
        if "CROWDMAP_HOST" in env:
            fields["host"] = env["CROWDMAP_HOST"]
        if "CROWDMAP_PORT" in env:
            fields["port"] = _int(env["CROWDMAP_PORT"], "CROWDMAP_PORT", 1, 65535)
        if "CROWDMAP_DATA_DIR" in env:
            fields["data_dir"] = Path(env["CROWDMAP_DATA_DIR"])
        if env.get("CROWDMAP_SECRET_KEY"):
            fields["secret_key"] = env["CROWDMAP_SECRET_KEY"]
        if "CROWDMAP_COOKIE_SECURE" in env:
            fields["cookie_secure"] = _flag(env["CROWDMAP_COOKIE_SECURE"], "CROWDMAP_COOKIE_SECURE")
        if env.get("CROWDMAP_MESSAGE_QUEUE"):
            fields["message_queue"] = env["CROWDMAP_MESSAGE_QUEUE"]
        if "CROWDMAP_ASYNC_MODE" in env:
            fields["async_mode"] = env["CROWDMAP_ASYNC_MODE"]
        if "CROWDMAP_ALERT_LEVEL" in env:
            fields["alert_level"] = _int(env["CROWDMAP_ALERT_LEVEL"], "CROWDMAP_ALERT_LEVEL", 1, 3)
        if "CROWDMAP_LOGIN_MAX_FAILS" in env:
            fields["login_max_fails"] = _int(env["CROWDMAP_LOGIN_MAX_FAILS"], "CROWDMAP_LOGIN_MAX_FAILS", 1, 1000)
        if "CROWDMAP_LOGIN_WINDOW_S" in env:
            fields["login_window_s"] = _int(env["CROWDMAP_LOGIN_WINDOW_S"], "CROWDMAP_LOGIN_WINDOW_S", 1, 86400)
        if "CROWDMAP_MAX_BACKLOG" in env:
            fields["max_backlog"] = _int(env["CROWDMAP_MAX_BACKLOG"], "CROWDMAP_MAX_BACKLOG", 1, 1000)
        if "CROWDMAP_DIRECT_WRITES" in env:
            fields["direct_writes"] = _flag(env["CROWDMAP_DIRECT_WRITES"], "CROWDMAP_DIRECT_WRITES")
        return cls(**fields)  # type: ignore[arg-type]

    @property
    def users_db(self) -> Path:
        """The SQLite file holding staff and operator accounts."""
        return self.data_dir / "users.sqlite3"

    def with_secret(self) -> WebSettings:
        """These settings with a secret key: the given one, else one kept in ``data_dir``.

        A generated key is written once (mode 0600) and reused, so sessions survive a restart
        and every web process of one installation shares it.
        """
        if self.secret_key is not None:
            return self
        path = self.data_dir / SECRET_FILE
        if path.exists():
            key = path.read_text(encoding="utf-8").strip()
            if len(key) < 16:
                raise ValueError(f"{path}: the stored secret key is too short; delete the file to regenerate it")
            return replace(self, secret_key=key)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # O_EXCL: two processes starting together must not overwrite each other's key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return replace(self, secret_key=path.read_text(encoding="utf-8").strip())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key)
        return replace(self, secret_key=key)
