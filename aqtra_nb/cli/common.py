"""What every command group of `aqtra-nb` shares: exit codes and the command's resources."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE, as a shell reports a command whose reader went away


def command_store() -> Any:
    """The store of the command's resources (made once per command by `aqtra_nb.cli.main`)."""
    from ..resources import current

    return current().store


def add_action(
    actions: Any,
    name: str,
    handler: Callable[[argparse.Namespace], int],
    text: str,
    *positionals: str,
    json: bool = False,
    **defaults: Any,
) -> argparse.ArgumentParser:
    """One action of a command group (`jobs show NAME --json`): its positional arguments, `--json` when it
    can print JSON, and the handler (with `defaults`) it runs; the caller adds its other options."""
    action = actions.add_parser(name, help=text)
    for positional in positionals:
        action.add_argument(positional)
    if json:
        action.add_argument("--json", action="store_true")
    action.set_defaults(handler=handler, **defaults)
    return action
