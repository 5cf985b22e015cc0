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


def _add(args: argparse.Namespace) -> int:
    try:
        user = _store(args).add(args.name, _read_password(args), args.role)
    except UserError as error:
        print(f"crowdmap users add: {error}", file=sys.stderr)
        return 1
    print(f"added {user.name} ({user.role})")
    return 0


def _list(args: argparse.Namespace) -> int:
    for user in _store(args).list():
        print(f"{user.name}\t{user.role}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    try:
        _store(args).remove(args.name)
    except UserError as error:
        print(f"crowdmap users remove: {error}", file=sys.stderr)
        return 1
    print(f"removed {args.name}")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    try:
        _store(args).set_password(args.name, _read_password(args))
    except UserError as error:
        print(f"crowdmap users passwd: {error}", file=sys.stderr)
        return 1
    print(f"changed the password of {args.name}; its sessions have ended")
    return 0


def _logout(args: argparse.Namespace) -> int:
    try:
        _store(args).end_sessions(args.name)
    except UserError as error:
        print(f"crowdmap users logout: {error}", file=sys.stderr)
        return 1
    print(f"ended every session of {args.name}")
    return 0


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
    add.set_defaults(handler=_add)
    listing = actions.add_parser("list", help="list accounts and roles")
    listing.set_defaults(handler=_list)
    remove = actions.add_parser("remove", help="delete an account (its sessions and sockets end within seconds)")
    remove.add_argument("name", help="the login name")
    remove.set_defaults(handler=_remove)
    passwd = actions.add_parser("passwd", help="change an account's password (its sessions end)")
    passwd.add_argument("name", help="the login name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(handler=_passwd)
    logout = actions.add_parser("logout", help="end every session of an account, e.g. after a lost device")
    logout.add_argument("name", help="the login name")
    logout.set_defaults(handler=_logout)
