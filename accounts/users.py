"""Staff and operator accounts: an SQLite table of names, roles and argon2id password hashes.

Passwords are never stored or logged; only argon2id hashes (argon2-cffi's defaults, RFC 9106
low-memory profile). Hashes are upgraded transparently when the parameters change. Each account
has a session epoch: changing the password or ending the account's sessions increments it, and
a session started under an older epoch is no longer accepted (:mod:`accounts.login`).

The database file is created readable by its owner only (0600): it holds the hashes.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from accounts.offload import run_blocking

ROLES = ("staff", "operator")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    session_epoch INTEGER NOT NULL DEFAULT 0
)
"""
_COLUMNS = "name, role, created_at, session_epoch"
# The statements, written once (SQL does not care about the case of its words).
_TABLE_COLUMNS = "PRAGMA table_info(users)"
_ADD_EPOCH = "ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0"
_INSERT = "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)"
_DELETE = "DELETE FROM users WHERE name = ?"
_SET_PASSWORD = "UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1 WHERE name = ?"
_END_SESSIONS = "UPDATE users SET session_epoch = session_epoch + 1 WHERE name = ?"
_REHASH = "UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?"
_SELECT_ONE = f"SELECT {_COLUMNS} FROM users WHERE name = ?"
_SELECT_ALL = f"SELECT {_COLUMNS} FROM users ORDER BY name"
_SELECT_WITH_HASH = f"SELECT {_COLUMNS}, password_hash FROM users WHERE name = ?"
# The pages each role may use: operators may also use the staff pages.
_MAY_USE = {"staff": frozenset({"staff"}), "operator": frozenset({"staff", "operator"})}
# A hash of a random password: verifying against it when the user does not exist costs the
# same time as a real check, so login timing does not reveal which names exist.
_DUMMY_HASH = PasswordHasher().hash("no such user: dummy password")
T = TypeVar("T")


@dataclass(frozen=True)
class User:
    """An account.

    Attributes:
        name: Login name.
        role: ``staff`` (dashboard) or ``operator`` (dashboard and operator tools).
        created_at: Unix seconds.
        session_epoch: Incremented whenever the account's sessions must end (password change).
    """

    name: str
    role: str
    created_at: float
    session_epoch: int = 0

    def can(self, role: str) -> bool:
        """Whether this user may use pages meant for ``role`` (operators may also see staff pages)."""
        return role in _MAY_USE.get(self.role, ())


class UserError(ValueError):
    """A user cannot be added or changed; the message says why."""


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"password must have at least {MIN_PASSWORD_CHARS} characters, got {len(password)}")
    if len(password) > MAX_PASSWORD_CHARS:
        # The login form refuses longer ones: such an account could never log in.
        raise UserError(f"password must have at most {MAX_PASSWORD_CHARS} characters, got {len(password)}")


class UserStore:
    """Accounts in one SQLite file.

    Args:
        path: The database file; its folder is created if missing, the file with mode 0600.
        hasher: The argon2 hasher (tests may pass cheaper parameters).
        offload: Runs a blocking call (an argon2 hash, about 150 ms) without stalling the server;
            by default gevent's thread pool in a gevent-patched process, else the call itself.
    """

    def __init__(
        self,
        path: str | Path,
        hasher: PasswordHasher | None = None,
        offload: Callable[[Callable[[], T]], T] = run_blocking,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._hasher = hasher or PasswordHasher()
        self._offload = offload
        try:
            # Created here, owner-only, before SQLite opens it with the process's default mode.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        with self._connect() as db:
            db.execute(_SCHEMA)
            columns = {row[1] for row in db.execute(_TABLE_COLUMNS)}
            if "session_epoch" not in columns:  # a database made before session epochs existed
                db.execute(_ADD_EPOCH)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)  # waits up to 5 s for another process's write

    def _hash(self, password: str) -> str:
        return self._offload(lambda: self._hasher.hash(password))

    def add(self, name: str, password: str, role: str) -> User:
        """Create an account.

        Raises:
            UserError: for a bad name, an unknown role, a short password or an existing name.
        """
        if not NAME_PATTERN.match(name):
            raise UserError(f"user name must match {NAME_PATTERN.pattern}, got {name!r}")
        if role not in ROLES:
            raise UserError(f"role must be one of {ROLES}, got {role!r}")
        _check_password(password)
        user = User(name, role, time.time())
        try:
            with self._connect() as db:
                db.execute(_INSERT, (name, role, self._hash(password), user.created_at))
        except sqlite3.IntegrityError:
            raise UserError(f"user {name!r} already exists") from None
        return user

    def remove(self, name: str) -> None:
        """Delete an account; its sessions end at their next request or socket check.

        Raises:
            UserError: if there is no such user.
        """
        with self._connect() as db:
            deleted = db.execute(_DELETE, (name,)).rowcount
        if not deleted:
            raise UserError(f"no user {name!r}")

    def set_password(self, name: str, password: str) -> None:
        """Replace an account's password and end all its sessions.

        Raises:
            UserError: for a short password or an unknown user.
        """
        _check_password(password)
        with self._connect() as db:
            changed = db.execute(_SET_PASSWORD, (self._hash(password), name)).rowcount
        if not changed:
            raise UserError(f"no user {name!r}")

    def end_sessions(self, name: str) -> None:
        """End every session of ``name`` without changing the password.

        Raises:
            UserError: if there is no such user.
        """
        with self._connect() as db:
            changed = db.execute(_END_SESSIONS, (name,)).rowcount
        if not changed:
            raise UserError(f"no user {name!r}")

    def get(self, name: str) -> User | None:
        """The account called ``name``, or ``None``."""
        with self._connect() as db:
            row = db.execute(_SELECT_ONE, (name,)).fetchone()
        return None if row is None else User(*row)

    def list(self) -> list[User]:
        """Every account, by name."""
        with self._connect() as db:
            rows = db.execute(_SELECT_ALL).fetchall()
        return [User(*row) for row in rows]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else ``None`` (same cost either way).

        The argon2 check runs through ``offload``, so under gevent other requests and the
        websocket fan-out go on while it runs.
        """
        with self._connect() as db:
            row = db.execute(_SELECT_WITH_HASH, (name,)).fetchone()
        stored = _DUMMY_HASH if row is None else row[4]
        if not self._offload(lambda: self._verify(stored, password)) or row is None:
            return None
        if self._hasher.check_needs_rehash(stored):
            rehashed = self._hash(password)
            with self._connect() as db:
                # Only if the hash is still the one just checked: a concurrent password change wins.
                db.execute(_REHASH, (rehashed, name, stored))
        return User(*row[:4])

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
