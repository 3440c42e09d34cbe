"""The terminal the CLI writes to, and how a user's mistake is reported there: one line, exit code 2."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import typer
from rich.console import Console
from rich.table import Table

from simulator.common.errors import UserError

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


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1) -> None:
    """A rich table of text cells: the first ``left`` columns (labels) left-aligned, the numbers right-aligned."""
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i < left else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
