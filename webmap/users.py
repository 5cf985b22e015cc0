"""Staff and operator accounts: an SQLite table of names, roles and argon2id password hashes.

Passwords are never stored or logged; only argon2id hashes (argon2-cffi's defaults, RFC 9106
low-memory profile). Hashes are upgraded transparently when the parameters change.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ROLES = ("staff", "operator")
MIN_PASSWORD_CHARS = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""
# A hash of a random password: verifying against it when the user does not exist costs the
# same time as a real check, so login timing does not reveal which names exist.
_DUMMY_HASH = PasswordHasher().hash("no such user: dummy password")


@dataclass(frozen=True)
class User:
    """An account.

    Attributes:
        name: Login name.
        role: ``staff`` (dashboard) or ``operator`` (dashboard and operator tools).
        created_at: Unix seconds.
    """

    name: str
    role: str
    created_at: float

    def can(self, role: str) -> bool:
        """Whether this user may use pages meant for ``role`` (operators may also see staff pages)."""
        return self.role == role or (self.role == "operator" and role == "staff")


class UserError(ValueError):
    """A user cannot be added or changed; the message says why."""


class UserStore:
    """Accounts in one SQLite file.

    Args:
        path: The database file; its folder is created if missing.
        hasher: The argon2 hasher (tests may pass cheaper parameters).
    """

    def __init__(self, path: str | Path, hasher: PasswordHasher | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._hasher = hasher or PasswordHasher()
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5.0)

    def add(self, name: str, password: str, role: str) -> User:
        """Create an account.

        Raises:
            UserError: for a bad name, an unknown role, a short password or an existing name.
        """
        if not _NAME.match(name):
            raise UserError(f"user name must match {_NAME.pattern}, got {name!r}")
        if role not in ROLES:
            raise UserError(f"role must be one of {ROLES}, got {role!r}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise UserError(f"password must have at least {MIN_PASSWORD_CHARS} characters, got {len(password)}")
        user = User(name, role, time.time())
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    (name, role, self._hasher.hash(password), user.created_at),
                )
        except sqlite3.IntegrityError:
            raise UserError(f"user {name!r} already exists") from None
        return user

    def remove(self, name: str) -> None:
        """Delete an account.

        Raises:
            UserError: if there is no such user.
        """
        with self._connect() as db:
            deleted = db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount
        if not deleted:
            raise UserError(f"no user {name!r}")

    def get(self, name: str) -> User | None:
        """The account called ``name``, or ``None``."""
        with self._connect() as db:
            row = db.execute("SELECT name, role, created_at FROM users WHERE name = ?", (name,)).fetchone()
        return None if row is None else User(*row)

    def list(self) -> list[User]:
        """Every account, by name."""
        with self._connect() as db:
            rows = db.execute("SELECT name, role, created_at FROM users ORDER BY name").fetchall()
        return [User(*row) for row in rows]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else ``None`` (same cost either way)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT name, role, created_at, password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
        stored = _DUMMY_HASH if row is None else row[3]
        try:
            self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if self._hasher.check_needs_rehash(stored):
            with self._connect() as db:
                db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (self._hasher.hash(password), name))
        return User(row[0], row[1], row[2])
