import sqlite3

import pytest
from argon2 import PasswordHasher

from accounts.users import UserError, UserStore


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "u.sqlite3", hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("bad name", "long enough pw", "staff", "user name must match"),
        ("ann", "long enough pw", "admin", "role must be one of"),
        ("ann", "short", "staff", "at least 10 characters"),
    ],
)
def test_add_refuses_bad_accounts(store, name, password, role, message):
    with pytest.raises(UserError, match=message):
        store.add(name, password, role)


def test_passwords_are_stored_as_argon2id_hashes_only(store, tmp_path):
    store.add("ann", "a secret phrase", "staff")
    with sqlite3.connect(tmp_path / "u.sqlite3") as db:
        [(stored,)] = db.execute("SELECT password_hash FROM users").fetchall()
    assert stored.startswith("$argon2id$")
    assert "a secret phrase" not in stored


def test_authenticate(store):
    store.add("ann", "a secret phrase", "operator")
    user = store.authenticate("ann", "a secret phrase")
    assert (user.name, user.role) == ("ann", "operator")
    assert user.can("staff") and user.can("operator")
    assert store.authenticate("ann", "wrong phrase!!") is None
    assert store.authenticate("nobody", "a secret phrase") is None


def test_duplicate_list_and_remove(store):
    store.add("ann", "a secret phrase", "staff")
    with pytest.raises(UserError, match="already exists"):
        store.add("ann", "another phrase", "staff")
    assert [(u.name, u.role) for u in store.list()] == [("ann", "staff")]
    assert not store.get("ann").can("operator")
    store.remove("ann")
    assert store.get("ann") is None
    with pytest.raises(UserError, match="no user 'ann'"):
        store.remove("ann")


def test_hashes_are_upgraded_when_parameters_change(tmp_path):
    weak = UserStore(tmp_path / "u.sqlite3", hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    weak.add("ann", "a secret phrase", "staff")
    stronger = UserStore(tmp_path / "u.sqlite3", hasher=PasswordHasher(time_cost=2, memory_cost=128, parallelism=1))
    assert stronger.authenticate("ann", "a secret phrase") is not None
    with sqlite3.connect(tmp_path / "u.sqlite3") as db:
        [(stored,)] = db.execute("SELECT password_hash FROM users").fetchall()
    assert "m=128,t=2" in stored
