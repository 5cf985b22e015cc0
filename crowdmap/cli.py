"""The ``crowdmap`` command: one subcommand per module in ``crowdmap.commands``."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Each module registers its own subcommands with ``register(subparsers)``; adding a command is
# adding a module here, so nobody edits one long parser.
COMMAND_MODULES = (
    "crowdmap.commands.demo",
    "crowdmap.commands.run",
    "crowdmap.commands.edge",
    "crowdmap.commands.aggregate",
    "crowdmap.commands.serve",
    "crowdmap.commands.models",
    "crowdmap.commands.evaluate",
    "crowdmap.commands.users",
    "crowdmap.commands.layout",
    "crowdmap.commands.history",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every command module that imports."""
    parser = argparse.ArgumentParser(prog="crowdmap", description=__doc__)
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
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
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
