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


def test_the_database_is_readable_by_its_owner_only(tmp_path):
    """Another local account must not read the password hashes (issue 11 item 11)."""
    import os
    import stat

    old_umask = os.umask(0o022)  # a usual umask: files would be created 0644
    try:
        UserStore(
            tmp_path / "fresh" / "users.sqlite3", hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
        )
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "fresh" / "users.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) & 0o077 == 0


def test_password_change_and_end_sessions_move_the_session_epoch(store):
    store.add("ann", "a secret phrase", "staff")
    assert store.get("ann").session_epoch == 0
    store.set_password("ann", "another phrase!")
    assert store.get("ann").session_epoch == 1
    assert store.authenticate("ann", "a secret phrase") is None
    assert store.authenticate("ann", "another phrase!").session_epoch == 1
    store.end_sessions("ann")
    assert store.get("ann").session_epoch == 2
    for change in (lambda: store.set_password("bob", "long enough pw"), lambda: store.end_sessions("bob")):
        with pytest.raises(UserError, match="no user 'bob'"):
            change()
    with pytest.raises(UserError, match="at least 10"):
        store.set_password("ann", "short")
    with pytest.raises(UserError, match="at most 1024"):
        store.add("cy", "x" * 1025, "staff")


def test_a_database_from_before_session_epochs_is_upgraded(tmp_path):
    with sqlite3.connect(tmp_path / "old.sqlite3") as db:
        db.execute(
            "CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, "
            "created_at REAL NOT NULL)"
        )
        db.execute(
            "INSERT INTO users VALUES ('ann', 'staff', ?, 1.0)",
            (PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("a secret phrase"),),
        )
    store = UserStore(tmp_path / "old.sqlite3", hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    assert store.authenticate("ann", "a secret phrase") == store.get("ann")
    assert store.get("ann").session_epoch == 0


def test_users_command_changes_passwords_and_ends_sessions(tmp_path, monkeypatch, capsys):
    import io

    from crowdmap.cli import main

    db = str(tmp_path / "users.sqlite3")
    monkeypatch.setattr("sys.stdin", io.StringIO("first password\n"))
    assert main(["users", "--db", db, "add", "ann", "--role", "staff", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("second password\n"))
    assert main(["users", "--db", db, "passwd", "ann", "--password-stdin"]) == 0
    assert main(["users", "--db", db, "logout", "ann"]) == 0
    assert main(["users", "--db", db, "logout", "nobody"]) == 1
    store = UserStore(db)
    assert store.get("ann").session_epoch == 2
    assert store.authenticate("ann", "second password") is not None
    assert "its sessions have ended" in capsys.readouterr().out


def test_password_lengths_at_the_bounds_are_accepted(store):
    assert store.add("ann", "x" * 10, "staff") == store.get("ann")
    assert store.authenticate("ann", "x" * 10) is not None
    store.set_password("ann", "y" * 1024)
    assert store.authenticate("ann", "y" * 1024) is not None
    with pytest.raises(UserError, match="at least 10 characters, got 9"):
        store.set_password("ann", "z" * 9)
    with pytest.raises(UserError, match="at most 1024 characters, got 1025"):
        store.set_password("ann", "z" * 1025)


def test_add_returns_the_account_it_made(store):
    user = store.add("ann", "a secret phrase", "operator")
    assert (user.name, user.role, user.session_epoch) == ("ann", "operator", 0)
    assert user == store.get("ann")


@pytest.mark.parametrize(
    ("role", "may_use"),
    [("staff", {"staff"}), ("operator", {"staff", "operator"}), ("auditor", set())],
)
def test_which_pages_a_role_may_use(role, may_use):
    from accounts.users import User

    assert {page for page in ("staff", "operator", "admin") if User("x", role, 0.0).can(page)} == may_use


def test_the_database_folder_is_made_as_deep_as_needed(tmp_path):
    path = tmp_path / "a" / "b" / "users.sqlite3"
    UserStore(path, hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)).add(
        "ann", "a secret phrase", "staff"
    )
    assert UserStore(path).get("ann").role == "staff"
