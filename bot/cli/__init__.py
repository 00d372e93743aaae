"""The `epos` command line. Each module in COMMAND_MODULES adds its own sub-commands."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, ProgrammingError

from bot.config import load_settings
from bot.errors import ConfigError, EposError, first_line

COMMAND_MODULES = (
    "bot.cli.core",
    "bot.cli.assets",
    "bot.cli.engagements",
    "bot.cli.pilots",
    "bot.cli.devrel",
    "bot.cli.adoption",
    "bot.cli.schedule",
    "bot.cli.webhooks",
    "bot.cli.tryout",
    "bot.cli.doctor",
)

EXIT_FAILURE = 1
EXIT_CONFIG = 2


class CommandParser(argparse.ArgumentParser):
    """The parser of one sub-command (`epos assets export`): an argument it does not know is a mistake
    reported with its own usage, not the top-level one (argparse leaves unknown arguments to `epos`)."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> tuple[argparse.Namespace, list[str]]:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="epos",
        description="epos: presales assets, engagements and DevRel requests in Slack.",
    )
    # Each sub-command's parser, and the parsers of its own actions, are CommandParsers.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=CommandParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return int(args.handler(args, settings) or 0)
    except ConfigError as error:
        print(f"epos: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except (OperationalError, InterfaceError, ProgrammingError, ArgumentError) as error:
        # Raised where a command first touches the database: a wrong DATABASE_URL, a server that is down,
        # a user without rights. The driver's first line says which.
        print(f"epos: the database could not be used ({first_line(error)}); check DATABASE_URL and that its "
              f"user may create and change tables (see README › Database)", file=sys.stderr)
        return EXIT_CONFIG
    except EposError as error:
        print(f"epos: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader stopped early (`epos stats --json | head`): not a failure worth a traceback.
        # Python would complain again while flushing stdout at exit, so point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
