"""``dcsim trace inspect FILE``: what a job trace or occupancy series holds before a scenario replays it.

Rows read, jobs kept, the time span, jobs by GPU count, GPU-hours, and every skipped row counted by reason with
the first place it occurs, so a planner knows how much of a trace a replay stands on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from simulator.cli.terminal import console, guard, print_table
from simulator.common.errors import UserError
from simulator.workload.traces import FORMATS, TraceSummary, detect_format, load_occupancy, load_trace

trace_app = typer.Typer(help="Inspect cluster job traces and occupancy series.", no_args_is_help=True,
                        add_completion=False, pretty_exceptions_enable=False)


@trace_app.command()
def inspect(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Job trace or occupancy CSV.")],
    fmt: Annotated[str | None, typer.Option("--format", help=f"{', '.join(FORMATS)} or occupancy; "
                                                              "default: told from the file")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first bad row with file:line.")] = False,
    gpus_per_node: Annotated[int, typer.Option("--gpus-per-node", min=1,
                                               help="Occupancy only: GPUs per busy node.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Rows, time span, jobs by size, GPU-hours, and what was skipped and why."""

    def body() -> None:
        name = fmt or detect_format(file)
        if name == "occupancy":
            summary = load_occupancy(file, None, gpus_per_node, strict).summary
        elif name in FORMATS:
            summary = load_trace(file, name, strict).summary
        else:
            raise UserError(f"--format: unknown format {name!r}; expected one of {', '.join(FORMATS)} or occupancy")
        if as_json:
            print(json.dumps(summary.to_dict(), indent=2))
        else:
            show(summary)

    guard(body)


def show(summary: TraceSummary) -> None:
    """The summary as three rich tables: totals, jobs by GPU count, skipped rows by reason."""
    rows = [
        ("rows read", f"{summary.rows:,}"),
        ("jobs kept", f"{summary.jobs:,}"),
        ("rows skipped", f"{summary.skipped_rows:,}"),
        ("t = 0 at", summary.origin),
        ("time span", f"{summary.span_s / 3600:,.1f} h ({summary.span_s / 86400:,.2f} d)"),
        ("GPU-hours", f"{summary.gpu_hours:,.1f}"),
        ("jobs failed", f"{summary.failed:,}"),
        ("jobs killed", f"{summary.killed:,}"),
        ("jobs censored (running at trace end)", f"{summary.censored:,}"),
        ("jobs on a GPU share (rounded up)", f"{summary.fractional:,}"),
        ("jobs without model (sampled from the mix)", f"{summary.without_model:,}"),
    ]
    if summary.format == "occupancy":
        rows.append(("gaps held over", f"{summary.gaps:,}"))
    print_table(f"{summary.path} ({summary.format})", ("", "value"), rows)
    if summary.by_size:
        print_table("jobs by GPU count", ("GPUs", "jobs"), ((size, f"{n:,}") for size, n in summary.by_size.items()))
    if summary.skipped:
        print_table("skipped rows by reason", ("reason", "rows", "first line"),
                    ((reason, f"{s.count:,}", str(s.line)) for reason, s in summary.skipped.items()))
    else:
        console.print("no rows skipped")
