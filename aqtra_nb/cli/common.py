"""What every command group of `aqtra-nb` shares: exit codes and the command's resources."""

from __future__ import annotations

from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE, as a shell reports a command whose reader went away


def command_store() -> Any:
    """The store of the command's resources (made once per command by `aqtra_nb.cli.main`)."""
    from ..resources import current

    return current().store
