"""``crowdmap users``: what each action prints, where, and its exit status."""

import io
import sys

import pytest

from crowdmap.cli import main


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "users.sqlite3")


def run(capsys, monkeypatch, db: str, *words: str, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["users", "--db", db, *words])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("words", "stdin", "expected"),
    [
        (("add", "bob", "--role", "operator", "--password-stdin"), "a long enough password\n",
         (0, "added bob (operator)\n", "")),
        (("add", "ann", "--role", "staff", "--password-stdin"), "another password here\n",
         (1, "", "crowdmap users add: ")),
        (("list",), "", (0, "ann\tstaff\n", "")),
        (("passwd", "ann", "--password-stdin"), "a new long password\n",
         (0, "changed the password of ann; its sessions have ended\n", "")),
        (("passwd", "nobody", "--password-stdin"), "a new long password\n", (1, "", "crowdmap users passwd: ")),
        (("logout", "ann"), "", (0, "ended every session of ann\n", "")),
        (("logout", "nobody"), "", (1, "", "crowdmap users logout: ")),
        (("remove", "ann"), "", (0, "removed ann\n", "")),
        (("remove", "nobody"), "", (1, "", "crowdmap users remove: ")),
    ],
)  # fmt: skip
def test_each_action_says_what_it_did_or_why_not(capsys, monkeypatch, db, words, stdin, expected) -> None:
    assert run(capsys, monkeypatch, db, "add", "ann", "--role", "staff", "--password-stdin",
               stdin="a long enough password\n")[0] == 0  # fmt: skip
    code, out, err = run(capsys, monkeypatch, db, *words, stdin=stdin)
    assert (code, out) == expected[:2]
    # An error is one line on standard error, naming the command and then the problem.
    assert err.startswith(expected[2]) and err.count("\n") == (1 if expected[2] else 0), err


def test_listing_no_accounts_prints_nothing(capsys, monkeypatch, db) -> None:
    assert run(capsys, monkeypatch, db, "list") == (0, "", "")
