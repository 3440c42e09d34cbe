"""The ``dcsim`` command: typer for arguments, rich for the progress bar and the results table.

A user's mistake (bad scenario, missing file) prints one line and exits with code 2, without a traceback.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from simulator import __version__
from simulator.cli.forecast import forecast_app
from simulator.cli.power import power_app, profile
from simulator.cli.sweep import sweep
from simulator.cli.terminal import console, fail, print_table
from simulator.cli.trace import trace_app
from simulator.common.errors import UserError
from simulator.config import Scenario, load_scenario

app = typer.Typer(
    name="dcsim",
    help="Discrete-event power simulator for AI data centers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(power_app, name="power")
app.add_typer(forecast_app, name="forecast")
app.add_typer(trace_app, name="trace")
app.command("profile")(profile)
app.command("sweep")(sweep)


def _version(value: bool) -> None:
    if value:
        console.print(f"dcsim {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Simulate GPU training jobs as square waves of power and meter the facility."""


class LazyProgress:
    """A progress bar that appears only once a run has taken more than ``delay`` seconds."""

    def __init__(self, description: str, delay: float = 1.0):
        self.description = description
        self.delay = delay
        self.began = time.perf_counter()
        self.progress: Progress | None = None
        self.task = None

    def __call__(self, fraction: float) -> None:
        if self.progress is None:
            if time.perf_counter() - self.began < self.delay:
                return
            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(self.description, total=1.0)
        self.progress.update(self.task, completed=fraction)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _default_out(scenario: Scenario) -> Path:
    if scenario.output.dir is not None:
        return scenario.resolve(scenario.output.dir)
    return Path("runs") / f"{scenario.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


@app.command()
def run(
    scenario_file: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario YAML file.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (replaced if it exists).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override simulation.seed.", min=0)] = None,
) -> None:
    """Simulate a scenario and write time series, jobs, metrics, plots and report.html."""
    from simulator.report.run_report import metric_rows, write_outputs
    from simulator.run.pipeline import simulate

    try:
        scenario = load_scenario(scenario_file, seed=seed)
        progress = LazyProgress(f"simulating {scenario.name}")
        try:
            result = simulate(scenario, progress)
        finally:
            progress.close()
        with console.status("writing tables, plots and report.html"):
            folder = write_outputs(result, out or _default_out(scenario))
    except UserError as err:
        fail(err)
    print_table(f"{scenario.name} (seed {scenario.simulation.seed}, policy {scenario.policy.label})",
                ("metric", "value", "unit"), metric_rows(result.metrics))
    if result.grid is not None:
        from simulator.report.grid_report import comparison
        from simulator.report.run_report import format_value

        compared = comparison(result.grid)
        values = compared.drop(columns="unit")
        print_table(f"grid coordination: policy {scenario.policy.label} against none", ["metric", *compared.columns],
                    ((label, compared.loc[label, "unit"], *(format_value(v) if pd.notna(v) else "" for v in row))
                     for label, row in values.iterrows() if row.notna().any()), left=2)
    console.print(
        f"outputs in [bold]{folder}[/] (report.html, metrics.json, timeseries.parquet, jobs.parquet)", soft_wrap=True
    )


@app.command()
def validate(
    scenario_file: Annotated[Path, typer.Argument(metavar="SCENARIO", help="Scenario YAML file.")],
) -> None:
    """Check a scenario file without running it."""
    try:
        scenario = load_scenario(scenario_file)
    except UserError as err:
        fail(err)
    c, s = scenario.cluster, scenario.simulation
    console.print(
        f"{scenario_file}: ok: {c.servers} x {c.gpus_per_server} {c.gpu}, {s.duration / 3600:g} h at "
        f"{s.resolution:g}-s metering, workload {scenario.workload.kind}, policy {scenario.policy.label}",
        highlight=False,
        soft_wrap=True,
    )
