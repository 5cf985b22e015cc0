"""``crowdmap users add|list|remove|passwd|logout``: staff and operator accounts of the web apps.

Accounts live in ``$CROWDMAP_DATA_DIR/users.sqlite3`` (see ``accounts.settings``), with argon2id
password hashes. The password is read from the terminal without echo, or from standard input
with ``--password-stdin`` (for scripts); it is never taken as a command-line argument, where
other users could read it in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from typing import Any

from accounts.settings import AccountSettings
from accounts.users import ROLES, UserError, UserStore

DESCRIPTION = (
    "Staff and operator accounts of the dashboard and the calibration tool. They live in "
    "$CROWDMAP_DATA_DIR/users.sqlite3 (or --db), with argon2id password hashes."
)


def _store(args: argparse.Namespace) -> UserStore:
    return UserStore(args.db or AccountSettings.from_env().users_db)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    second = getpass.getpass("again: ")
    if first != second:
        raise UserError("the two passwords differ")
    return first


def _run(action: str, change: Callable[[UserStore, argparse.Namespace], str]) -> Callable[[argparse.Namespace], int]:
    """The handler of ``crowdmap users ACTION``: prints what ``change`` says it did, or the error."""

    def handler(args: argparse.Namespace) -> int:
        try:
            done = change(_store(args), args)
        except UserError as error:
            print(f"crowdmap users {action}: {error}", file=sys.stderr)
            return 1
        if done:  # an empty list prints nothing
            print(done)
        return 0

    return handler


def _add(store: UserStore, args: argparse.Namespace) -> str:
    user = store.add(args.name, _read_password(args), args.role)
    return f"added {user.name} ({user.role})"


def _list(store: UserStore, args: argparse.Namespace) -> str:
    return "\n".join(f"{user.name}\t{user.role}" for user in store.list())


def _remove(store: UserStore, args: argparse.Namespace) -> str:
    store.remove(args.name)
    return f"removed {args.name}"


def _passwd(store: UserStore, args: argparse.Namespace) -> str:
    store.set_password(args.name, _read_password(args))
    return f"changed the password of {args.name}; its sessions have ended"


def _logout(store: UserStore, args: argparse.Namespace) -> str:
    store.end_sessions(args.name)
    return f"ended every session of {args.name}"


def register(subparsers: Any) -> None:
    """Add ``crowdmap users``."""
    parser = subparsers.add_parser("users", help="manage staff and operator accounts", description=DESCRIPTION)
    parser.add_argument("--db", metavar="PATH", help="user database (default: $CROWDMAP_DATA_DIR/users.sqlite3)")
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser(
        "add",
        help="create an account",
        description=(
            "Create a staff or operator account. Staff see the dashboard; operators also calibrate cameras. "
            "The password is asked twice on the terminal (not shown), or read from standard input with "
            "--password-stdin, never from the command line."
        ),
    )
    add.add_argument("name", help="the login name")
    add.add_argument("--role", required=True, choices=ROLES, help="staff: the dashboard; operator: also calibration")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=_run("add", _add))
    listing = actions.add_parser("list", help="list accounts and roles")
    listing.set_defaults(handler=_run("list", _list))
    remove = actions.add_parser("remove", help="delete an account (its sessions and sockets end within seconds)")
    remove.add_argument("name", help="the login name")
    remove.set_defaults(handler=_run("remove", _remove))
    passwd = actions.add_parser("passwd", help="change an account's password (its sessions end)")
    passwd.add_argument("name", help="the login name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(handler=_run("passwd", _passwd))
    logout = actions.add_parser("logout", help="end every session of an account, e.g. after a lost device")
    logout.add_argument("name", help="the login name")
    logout.set_defaults(handler=_run("logout", _logout))
