"""The terminal the CLI writes to, and how a user's mistake is reported there: one line, exit code 2."""

from __future__ import annotations

import typer
from rich.console import Console

from simulator.errors import UserError

console = Console()
errors = Console(stderr=True)


def fail(err: UserError) -> None:
    """Print a user's mistake as one line on stderr and exit with code 2 (no traceback)."""
    errors.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def guard(function):
    """Run a command body; a user's mistake becomes one line on stderr and exit code 2."""
    try:
        return function()
    except UserError as err:
        fail(err)
