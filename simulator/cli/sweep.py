"""``dcsim sweep``: run a sweep file's points on Dask, a local cluster of processes or an existing scheduler.

Points that already have a row in the output folder's ``results.parquet`` are skipped, so an interrupted or
extended sweep resumes with the same ``--out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from simulator.cli.terminal import console, errors, fail, print_table
from simulator.common.errors import UserError

if TYPE_CHECKING:  # dask and the sweep modules load when the command runs, not with every dcsim command
    from distributed import Client

    from simulator.sweep.runner import Results
    from simulator.sweep.spec import Point, Sweep

SHOWN_ERRORS = 5
SHOWN_BEST = 12
"""Rows of the Pareto front on the terminal; report.html has them all."""


def sweep(
    sweep_file: Annotated[Path, typer.Argument(metavar="SWEEP", help="Sweep YAML file (base scenario and axes).")],
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Address of a running Dask scheduler, e.g. tcp://HOST:8786; default: a local cluster.",
    )] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output folder; a rerun with the same folder skips finished points. "
                            "Default: runs/sweep-<name>.",
    )] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Processes of the local cluster (default: one per core); not with --scheduler.",
    )] = None,
) -> None:
    """Run a parameter sweep on Dask: rows in results.parquet as points finish, a Pareto report in report.html."""
    from simulator.common.atomic import write_text_atomic
    from simulator.report.sweep_report import best_rows, designs, write_report
    from simulator.sweep.runner import RESULTS_FILE, Results, dask_client, pending
    from simulator.sweep.spec import load_sweep

    lost: list[str] = []
    try:
        if scheduler is not None and workers is not None:
            raise UserError("--workers sizes the local cluster; with --scheduler the cluster has its own workers")
        plan = load_sweep(sweep_file)
        folder = out or Path("runs") / f"sweep-{plan.name}"
        results = Results(folder / RESULTS_FILE)
        todo = pending(plan, results)
        merged = f" ({plan.duplicates} duplicate draws merged)" if plan.duplicates else ""
        console.print(f"{plan.name}: {len(plan.points)} points{merged}, {len(plan.points) - len(todo)} already in "
                      f"{folder / RESULTS_FILE}, {len(todo)} to run", highlight=False, soft_wrap=True)
        if todo:
            try:
                with dask_client(scheduler, workers) as client:
                    count = len(client.scheduler_info()["workers"])
                    console.print(f"dask scheduler {client.scheduler.address}: {count} worker{'s' * (count != 1)}"
                                  + ("; waiting for workers to join" if count == 0 else ""), highlight=False)
                    lost = _run_with_progress(plan, todo, results, client)
            except KeyboardInterrupt:
                errors.print(f"interrupted: {len(results.rows)} points are in {folder / RESULTS_FILE}; run the same "
                             "command again to resume", highlight=False, soft_wrap=True)
                raise typer.Exit(code=130) from None
        write_text_atomic(folder / "sweep.yaml", plan.path.read_text())
        write_report(plan, results.frame(), folder)
    except UserError as err:
        fail(err)
    header, rows = best_rows(plan, designs(plan, results.frame()), limit=SHOWN_BEST, short=True)
    if not rows:
        console.print("no point of this sweep ran successfully: no Pareto front", highlight=False)
    else:
        print_table(f"best points of {plan.name}: Pareto front of total bill, peak import and mean wait"
                    + (f" per {', '.join(plan.spec.conditions)}" if plan.spec.conditions else ""),
                    header, rows, left=len(plan.axes))
    failed = sum(1 for p in plan.points if results.rows.get(p.point_id, {}).get("status") == "failed")
    if failed:
        console.print(f"{failed} points failed (the scenario they make cannot run); their messages are in "
                      "report.html and results.parquet", highlight=False)
    console.print(f"outputs in [bold]{folder}[/] (results.parquet, report.html, pareto.png, sweep.yaml)",
                  soft_wrap=True)
    if lost:
        for message in lost[:SHOWN_ERRORS]:
            errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
        errors.print(f"{len(lost)} points raised an error and were not recorded; a rerun with the same --out "
                     "retries them", highlight=False)
        raise typer.Exit(code=1)


def _run_with_progress(plan: Sweep, todo: list[Point], results: Results, client: Client) -> list[str]:
    """Run the points under a rich progress bar that counts every point back, failed ones too."""
    from simulator.sweep.runner import run_points

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(), TimeRemainingColumn(),
                        console=console)
    with progress:
        task = progress.add_task(f"sweeping {plan.name}", total=len(todo), failed=0)

        def advance(rows: list[dict], raised: int) -> None:
            failed = progress.tasks[0].fields["failed"] + raised + sum(r["status"] != "ok" for r in rows)
            progress.update(task, advance=len(rows) + raised, failed=failed)

        return run_points(plan, todo, results, client, advance)
