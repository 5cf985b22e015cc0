"""The ``crowdmap`` command: one subcommand per module in ``crowdmap.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# Each module registers its own subcommands with ``register(subparsers)``; adding a command is
# adding a module here, so nobody edits one long parser. Subcommand -> module that registers it.
COMMANDS = {
    "demo": "crowdmap.commands.demo",
    "run": "crowdmap.commands.run",
    "edge": "crowdmap.commands.edge",
    "aggregate": "crowdmap.commands.aggregate",
    "serve": "crowdmap.commands.serve",
    "models": "crowdmap.commands.models",
    "eval": "crowdmap.commands.evaluate",
    "users": "crowdmap.commands.users",
    "calibrate": "crowdmap.commands.calibrate",
    "layout": "crowdmap.commands.layout",
    "history": "crowdmap.commands.history",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))
# A process killed by SIGPIPE exits 128 + 13; shells and pipefail treat it the usual way.
BROKEN_PIPE_EXIT = 141
DESCRIPTION = (
    "A live crowding map of a station made from its CCTV cameras, published as anonymous dots. "
    "Start with 'crowdmap demo' (a simulated station); 'crowdmap COMMAND --help' explains each command, "
    "README.md and docs/ the rest."
)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command, or only the module of ``command``.

    Loading one command's module only keeps a process to what it runs: ``crowdmap serve``, the
    publishing tier, must not import the edge's detector or image code (PRIVACY.md P1).
    """
    parser = argparse.ArgumentParser(prog="crowdmap", description=DESCRIPTION)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    subparsers = parser.add_subparsers(dest="command", required=True)
    modules = (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:  # the command is not written yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crowdmap`` console script."""
    words = sys.argv[1:] if argv is None else argv
    # The subcommand is the first word that is not an option (or the value of --log-level).
    positional = [w for i, w in enumerate(words) if not w.startswith("-") and (i == 0 or words[i - 1] != "--log-level")]
    parser = build_parser(positional[0] if positional else None)
    args = parser.parse_args(words)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except BrokenPipeError:
        # The reader went away (``crowdmap history export | head``): stop quietly, as a pipe tool does.
        # Standard output now points nowhere, so the interpreter's final flush fails silently too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE_EXIT


if __name__ == "__main__":
    sys.exit(main())
