"""Account settings shared by both web apps, read from the environment.

=================================  =========================================================  ==========
variable                           meaning                                                    default
=================================  =========================================================  ==========
``CROWDMAP_DATA_DIR``              folder for the user database and the generated secret      platform data dir
``CROWDMAP_SECRET_KEY``            Flask secret (sessions, CSRF); generated and kept if unset (generated)
``CROWDMAP_COOKIE_SECURE``         ``0`` only for plain-HTTP deployments other than localhost 1
``CROWDMAP_LOGIN_MAX_FAILS``       failed logins allowed per window, per address or device    5
``CROWDMAP_LOGIN_USER_MAX_FAILS``  failed logins on one name per window from unknown devices  20
``CROWDMAP_LOGIN_WINDOW_S``        the rate-limit window                                      300
``CROWDMAP_PROXY_HOPS``            reverse proxies in front whose ``X-Forwarded-*`` count     0
=================================  =========================================================  ==========

``CROWDMAP_PROXY_HOPS`` is how many proxies (e.g. 1 for the documented nginx) append to
``X-Forwarded-For``/``-Proto``/``-Host``: only that many entries, from the right, are believed.
With 0 the headers are ignored and the client address is the connecting one, so a web process
behind a proxy left at 0 sees every user at the proxy's address.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

SECRET_FILE = "web-secret-key"
USERS_FILE = "users.sqlite3"
MIN_SECRET_CHARS = 16
MAX_PROXY_HOPS = 5


def env_flag(value: str, name: str) -> bool:
    """``1/0``, ``true/false``, ``yes/no`` or ``on/off`` as a bool.

    Raises:
        ValueError: naming the variable for any other value.
    """
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1/0, true/false, yes/no or on/off, got {value!r}")


def env_int(value: str, name: str, low: int, high: int) -> int:
    """An integer in ``[low, high]``.

    Raises:
        ValueError: naming the variable when ``value`` is not such an integer.
    """
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {number}")
    return number


@dataclass(frozen=True)
class AccountSettings:
    """What the login, the sessions and the rate limiter of a web app need.

    Attributes:
        data_dir: Folder for ``users.sqlite3`` and a generated secret key.
        secret_key: Flask secret; ``None`` means "read or generate one in ``data_dir``".
        cookie_secure: Send cookies over HTTPS only (browsers also accept them on localhost).
        login_max_fails: Failed logins allowed per window from one client address (any names),
            or from one trusted device of a user.
        login_user_max_fails: Failed logins allowed per window on one user name from clients
            that are not a trusted device of that user, whatever their addresses.
        login_window_s: Length of the rate-limit window, seconds.
        proxy_hops: Trusted reverse proxies in front of the app (``X-Forwarded-*`` entries believed).
        redis_url: Redis shared by the app's processes for sessions and login failures; ``None``
            keeps both in this process's memory.
    """

    data_dir: Path = Path(platformdirs.user_data_dir("crowdmap"))
    secret_key: str | None = None
    cookie_secure: bool = True
    login_max_fails: int = 5
    login_user_max_fails: int = 20
    login_window_s: int = 300
    proxy_hops: int = 0
    redis_url: str | None = None

    def __post_init__(self) -> None:
        if self.secret_key is not None and len(self.secret_key) < MIN_SECRET_CHARS:
            raise ValueError(
                f"the secret key must have at least {MIN_SECRET_CHARS} characters, got {len(self.secret_key)}"
            )
        if self.login_max_fails < 1 or self.login_user_max_fails < 1 or self.login_window_s < 1:
            raise ValueError(
                "login_max_fails, login_user_max_fails and login_window_s must be >= 1, got "
                f"{self.login_max_fails}, {self.login_user_max_fails} and {self.login_window_s}"
            )
        if not 0 <= self.proxy_hops <= MAX_PROXY_HOPS:
            raise ValueError(f"proxy_hops must lie in [0, {MAX_PROXY_HOPS}], got {self.proxy_hops}")
        if self.redis_url is not None and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"redis_url must be a redis://, rediss:// or unix:// URL, got {self.redis_url!r}")
        object.__setattr__(self, "data_dir", Path(self.data_dir))

    @staticmethod
    def fields_from_env(env: Mapping[str, str]) -> dict[str, object]:
        """The fields set by ``CROWDMAP_*`` variables in ``env`` (see the module docstring).

        Raises:
            ValueError: naming the variable whose value is invalid.
        """
        fields: dict[str, object] = {}
        if "CROWDMAP_DATA_DIR" in env:
            fields["data_dir"] = Path(env["CROWDMAP_DATA_DIR"])
        if env.get("CROWDMAP_SECRET_KEY"):
            fields["secret_key"] = env["CROWDMAP_SECRET_KEY"]
        if "CROWDMAP_COOKIE_SECURE" in env:
            fields["cookie_secure"] = env_flag(env["CROWDMAP_COOKIE_SECURE"], "CROWDMAP_COOKIE_SECURE")
        for variable, field, high in (
            ("CROWDMAP_LOGIN_MAX_FAILS", "login_max_fails", 1000),
            ("CROWDMAP_LOGIN_USER_MAX_FAILS", "login_user_max_fails", 10000),
            ("CROWDMAP_LOGIN_WINDOW_S", "login_window_s", 86400),
            ("CROWDMAP_PROXY_HOPS", "proxy_hops", MAX_PROXY_HOPS),
        ):
            if variable in env:
                fields[field] = env_int(env[variable], variable, 0 if field == "proxy_hops" else 1, high)
        return fields

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AccountSettings:
        """Settings from ``CROWDMAP_*`` variables (see the module docstring).

        Raises:
            ValueError: naming the variable whose value is invalid.
        """
        return cls(**cls.fields_from_env(os.environ if env is None else env))  # type: ignore[arg-type]

    @property
    def users_db(self) -> Path:
        """The SQLite file holding staff and operator accounts."""
        return self.data_dir / USERS_FILE

    def with_secret(self) -> AccountSettings:
        """These settings with a secret key: the given one, else one kept in ``data_dir``."""
        return replace(self, secret_key=stored_secret(self.data_dir, self.secret_key))


def stored_secret(data_dir: Path, given: str | None) -> str:
    """``given``, else the secret kept in ``data_dir`` (generated once, mode 0600, and reused).

    Reusing it lets sessions survive a restart and every web process of one installation share it.

    Raises:
        ValueError: if the stored secret is too short.
    """
    if given is not None:
        return given
    path = Path(data_dir) / SECRET_FILE
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) < MIN_SECRET_CHARS:
            raise ValueError(f"{path}: the stored secret key is too short; delete the file to regenerate it")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting together must not overwrite each other's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key
