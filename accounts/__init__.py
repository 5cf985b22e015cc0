"""Accounts, login, sessions, rate limiting and security headers, shared by both web apps.

The publishing tier (``webmap``) and the edge-side calibration tool (``calibrator``) log staff
and operators in the same way (PRIVACY.md P5) without depending on each other: both install
:func:`accounts.login.install` with their own :class:`accounts.login.LoginPolicy`. This package
imports no other project package.
"""

from accounts.login import Accounts, LoginPolicy, LoginUser, accounts_of, install
from accounts.settings import AccountSettings
from accounts.users import ROLES, User, UserError, UserStore

__all__ = [
    "ROLES",
    "AccountSettings",
    "Accounts",
    "LoginPolicy",
    "LoginUser",
    "User",
    "UserError",
    "UserStore",
    "accounts_of",
    "install",
]
