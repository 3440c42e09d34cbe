"""``dcsim power ...`` and ``dcsim profile``: fit, evaluate, compare and apply job power models; read power logs.

Kept apart from :mod:`simulator.cli.main` so that ``dcsim run`` does not import scikit-learn or gplearn.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from simulator.cli.terminal import console, guard, print_table
from simulator.common.catalog import described
from simulator.common.errors import UserError
from simulator.config import load_gpu_specs

power_app = typer.Typer(help="Job power models: fit, evaluate, compare, predict.", no_args_is_help=True)

DataFiles = Annotated[list[Path], typer.Argument(metavar="DATA...", help="Power-data CSVs (generic or Zeus).")]
Targets = Annotated[list[str], typer.Option("--target", "-t", help="Target column; repeat for several.")]
Population = Annotated[int | None, typer.Option(min=10, help="gplearn population (default 2,000).")]
Generations = Annotated[int | None, typer.Option(min=1, help="gplearn generations (default 20).")]
Restarts = Annotated[int | None, typer.Option(
    min=1, help="Independent searches per formula; the best on the training rows is kept (default 3).")]
GroupBy = Annotated[str, typer.Option(
    "--group-by", help="Columns that make a model family, comma-separated (one formula each); 'none': one formula.")]
GpuSpecs = Annotated[Path | None, typer.Option(
    "--gpu-spec", help="YAML describing GPUs the catalog lacks (name, tdp_w, idle_w, tensor_tflops, memory_gb, ...); "
                       "jobs and data may then name them.")]
Physics = Annotated[bool, typer.Option(
    "--physics", help="Fit powers as shares of the GPU's idle-to-limit envelope and compute times against their "
                      "roofline time, so formulas can hold on GPUs they were not fitted on.")]


def _search(population: int | None, generations: int | None, restarts: int | None) -> dict:
    """Search overrides from the command line (ignored with --published-settings)."""
    given = (("population_size", population), ("generations", generations), ("restarts", restarts))
    return {k: v for k, v in given if v is not None}


def _families(group_by: str) -> list[str] | None:
    columns = [c.strip() for c in group_by.split(",") if c.strip()]
    return None if columns in ([], ["none"]) else columns


def _targets(frame: pd.DataFrame, targets: list[str] | None, source: str) -> list[str]:
    if targets:
        return targets
    found = [c for c in ("average_power", "time_per_epoch", "peak_power_w", "peak_duration_s", "valley_power_w",
                         "valley_duration_s") if c in frame.columns]
    if not found:
        raise UserError(f"{source}: no target column found; name one with --target")
    return found


@power_app.command()
def fit(
    data: DataFiles,
    out: Annotated[Path, typer.Option("--out", "-o", help="Model JSON to write.")],
    target: Targets = None,
    published_settings: Annotated[bool, typer.Option(
        "--published-settings", help="Population 15,000 and 50 generations, as published (slow).")] = False,
    seed: Annotated[int, typer.Option(help="Random seed of the search.")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes for the search.")] = 1,
    population: Population = None,
    generations: Generations = None,
    restarts: Restarts = None,
    group_by: GroupBy = "model",
    physics: Physics = False,
) -> None:
    """Fit a symbolic power model: one readable formula per target and model family."""
    from forecasters.power.power_csv import load_power_data
    from forecasters.power.symbolic import ALL, SymbolicPowerModel

    def body():
        frame = load_power_data(data, target or [])
        targets = _targets(frame, target, str(data[0]))
        model = SymbolicPowerModel(targets, published=published_settings, random_state=seed, n_jobs=jobs,
                                   group_by=_families(group_by), physics=physics,
                                   **_search(population, generations, restarts))
        began = time.perf_counter()
        with console.status(f"evolving formulas for {', '.join(targets)} on {len(frame)} rows"):
            model.fit(frame)
        model.save(out)
        for by_group in model.formulas.values():
            formula = by_group[ALL]
            table = Table(title=f"{formula.target}: feature selection on all rows (|Pearson| or MI >= 0.3)")
            for col in ("feature", "Pearson r", "mutual info", "selected"):
                table.add_column(col, justify="left" if col == "feature" else "right")
            for row in formula.selection:
                table.add_row(row["feature"], f"{row['pearson']:+.3f}", f"{row['mutual_info']:.3f}",
                              "yes" if row["selected"] else "")
            console.print(table)
            for group, f in by_group.items():
                label = "all rows" if group == ALL else f"family {group}"
                console.print(f"[bold]{label}:[/] {f.readable()}", soft_wrap=True, highlight=False)
        console.print(f"fitted in {time.perf_counter() - began:.1f} s; wrote {out}", soft_wrap=True)

    guard(body)


def _load_model(path: Path):
    from forecasters.power.symbolic import SymbolicPowerModel

    return SymbolicPowerModel.load(path)


@power_app.command("eval")
def evaluate(
    model_file: Annotated[Path, typer.Argument(metavar="MODEL.json")],
    data: DataFiles,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    gpu_spec: GpuSpecs = None,
) -> None:
    """Mean relative error and mean squared error of a fitted model on data."""
    from forecasters.power.compare import mre, mse
    from forecasters.power.power_csv import load_power_data

    def body():
        model = _load_model(model_file)
        with _described(gpu_spec):
            frame = load_power_data(data, model.targets)
            predicted = model.predict(frame)
        scores = {t: {"mre": mre(frame[t].to_numpy(float), predicted[t].to_numpy()),
                      "mse": mse(frame[t].to_numpy(float), predicted[t].to_numpy()), "rows": len(frame)}
                  for t in model.targets}
        if as_json:
            print(json.dumps(scores, indent=2))
            return
        print_table(f"{model_file} on {len(frame)} rows", ("target", "MRE %", "MSE"),
                    ((t, f"{100 * s['mre']:.2f}", f"{s['mse']:.4g}") for t, s in scores.items()))

    guard(body)


@power_app.command()
def compare(
    data: DataFiles,
    target: Targets = None,
    repeats: Annotated[int, typer.Option(min=1, help="Random 8:1:1 splits.")] = 20,
    published_settings: Annotated[bool, typer.Option("--published-settings")] = False,
    seed: Annotated[int, typer.Option()] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j")] = 1,
    population: Population = None,
    generations: Generations = None,
    restarts: Restarts = None,
    group_by: GroupBy = "model",
    holdout: Annotated[str | None, typer.Option(
        "--holdout", help="Leave one group out instead of random splits: a column such as gpu or model.")] = None,
    physics: Physics = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Symbolic regression against MLP, linear, ridge, lasso and gradient boosting (mean +- std, or per group
    left out)."""
    from forecasters.power import compare as comparison
    from forecasters.power.power_csv import load_power_data

    def body():
        frame = load_power_data(data, target or [])
        targets = _targets(frame, target, str(data[0]))
        if holdout is not None and holdout not in frame.columns:
            raise UserError(f"--holdout {holdout}: no such column (columns: {', '.join(map(str, frame.columns))})")
        folds = repeats if holdout is None else frame[holdout].nunique()
        with Progress(TextColumn("comparing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("", total=folds * len(targets))
            results = comparison.compare(frame, targets, repeats, seed, published_settings,
                                         _search(population, generations, restarts), n_jobs=jobs,
                                         group_by=_families(group_by), holdout=holdout, physics=physics,
                                         progress=lambda done, total: bar.update(task, completed=done))
        if holdout is not None:
            _print_holdout(results, holdout, len(frame), physics, as_json)
            return
        summary = comparison.summarize(results)
        if as_json:
            out = {m: {t: {f"{metric}_{stat}": float(summary.loc[m, (metric, stat, t)])
                           for metric in ("mre", "mse") for stat in ("mean", "std")} for t in targets}
                   for m in summary.index}
            print(json.dumps({"rows": len(frame), "repeats": repeats, "group_by": _families(group_by),
                              "results": out}, indent=2))
            return
        table = Table(title=f"test error over {repeats} random 8:1:1 splits of {len(frame)} rows (mean +- std)")
        table.add_column("method")
        for t in targets:
            table.add_column(f"{t} MRE %", justify="right")
            table.add_column(f"{t} MSE", justify="right")
        for method in summary.index:
            cells = []
            for t in targets:
                cells.append(f"{100 * summary.loc[method, ('mre', 'mean', t)]:.2f} +- "
                             f"{100 * summary.loc[method, ('mre', 'std', t)]:.2f}")
                cells.append(f"{summary.loc[method, ('mse', 'mean', t)]:.4g} +- "
                             f"{summary.loc[method, ('mse', 'std', t)]:.2g}")
            table.add_row(method, *cells)
        console.print(table)

    guard(body)


def _print_holdout(results: pd.DataFrame, holdout: str, rows: int, physics: bool, as_json: bool) -> None:
    """Leave-one-group-out: test MRE of every method on each group left out."""
    from forecasters.power.compare import per_group

    table = per_group(results)
    if as_json:
        out = {str(group): {t: {m: float(table.loc[group, (t, m)]) for m in table.columns.levels[1]}
                            for t in table.columns.levels[0]} for group in table.index}
        sizes = results.groupby("holdout")["rows"].first().astype(int).to_dict()
        print(json.dumps({"rows": rows, "holdout": holdout, "physics": physics, "test_rows": sizes,
                          "mre": out}, indent=2))
        return
    for target in table.columns.levels[0]:
        shown = Table(title=f"{target}: test MRE % with each {holdout} left out (fitted on the others; {rows} rows)")
        shown.add_column(f"{holdout} left out")
        methods = list(table[target].columns)
        for method in methods:
            shown.add_column(method, justify="right")
        for group in table.index:
            shown.add_row(str(group), *(f"{100 * table.loc[group, (target, m)]:.2f}" for m in methods))
        console.print(shown)


@power_app.command()
def predict(
    model_file: Annotated[Path, typer.Argument(metavar="MODEL.json")],
    jobs_file: Annotated[Path, typer.Argument(metavar="JOB.yaml|JOBS.csv")],
    gpu_spec: GpuSpecs = None,
) -> None:
    """Predict the square wave of one job (YAML mapping) or many (CSV in the power-data schema)."""
    import yaml

    from forecasters.power.power_csv import read_power_csv, read_power_job

    def body():
        model = _load_model(model_file)
        with _described(gpu_spec):
            if jobs_file.suffix.lower() in (".yaml", ".yml"):
                try:
                    job = yaml.safe_load(jobs_file.read_text())
                except (OSError, yaml.YAMLError) as err:
                    raise UserError(f"{jobs_file}: cannot read job ({err})") from None
                if not isinstance(job, dict):
                    raise UserError(f"{jobs_file}:1: expected a mapping of job metadata (model:, batch_size:, ...)")
                frame = read_power_job(job, jobs_file)
            else:
                frame = read_power_csv(jobs_file, [])
            predicted = model.predict(frame)
        print(pd.concat([frame, predicted], axis=1).to_csv(index=False), end="")

    guard(body)


@contextmanager
def _described(path: Path | None) -> Iterator[None]:
    """The GPUs of ``--gpu-spec``, known to the catalog while the command reads and predicts."""
    with ExitStack() as stack:
        if path is not None:
            try:  # only entering can refuse a name; errors of the command itself pass through
                stack.enter_context(described(load_gpu_specs(path)))
            except ValueError as err:
                raise UserError(f"{path}: {err}") from None
        yield


@power_app.command()
def synthetic(
    rows: Annotated[int, typer.Argument(min=1, help="Jobs to generate.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV to write (generic power-data schema).")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    noise: Annotated[float, typer.Option(min=0.0, help="Relative noise on the targets.")] = 0.03,
) -> None:
    """Write a synthetic, calibrated power dataset (the analytic model plus noise) for fitting and teaching."""
    from forecasters.power.power_csv import write_power_csv
    from forecasters.power.synthetic import synthetic_dataset

    write_power_csv(synthetic_dataset(rows, np.random.default_rng(seed), noise), out)
    console.print(f"wrote {rows} synthetic jobs to {out}")


@power_app.command()
def capping(
    data: DataFiles,
    out: Annotated[Path, typer.Option("--out", "-o", help="Curve JSON to write.")],
) -> None:
    """Refit the power-capping curve from Zeus power-limit sweeps (summary_power_<gpu>.csv)."""
    from forecasters.power.capping import CappingCurve
    from forecasters.power.zeus import read_zeus

    def body():
        sweeps = pd.concat([read_zeus(p) for p in data], ignore_index=True)
        curve = CappingCurve.fit(sweeps, source=", ".join(p.name for p in data))
        curve.save(out)
        table = Table(title="capped peak against cap / uncapped draw")
        for col in ("cap ratio", "power ratio", "time ratio"):
            table.add_column(col, justify="right")
        for row in zip(curve.cap_ratio, curve.power_ratio, curve.time_ratio, strict=True):
            table.add_row(*(f"{v:.3f}" for v in row))
        console.print(table)
        console.print(f"wrote {out}")

    guard(body)


def profile(
    log: Annotated[Path, typer.Argument(metavar="LOG.csv", help="A CSV with a time column and power column(s): "
                                        "nvidia-smi, DCGM fields, time,power, one column per GPU, ...")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    time_col: Annotated[str | None, typer.Option("--time-col", help="The time column, where several could be.")]
    = None,
    power_col: Annotated[list[str] | None, typer.Option(
        "--power-col", help="The power column (repeat, or comma-separate, for one column per GPU).")] = None,
) -> None:
    """Extract the square wave (peak and valley power and durations) from a measured power log."""
    from forecasters.power.profile import profile_log

    def body():
        profiles = profile_log(log, time_col, power_col)
        if as_json:
            print(json.dumps({gpu: p.to_dict() for gpu, p in profiles.items()}, indent=2))
            return
        table = Table(title=f"square wave per GPU in {log}: the wave (mean +- std of regular epochs), then "
                            "median / spread / count over every epoch")
        for col in ("GPU", "epochs", "peak W", "peak s", "valley W", "valley s"):
            table.add_column(col, justify="right")
        for gpu, p in profiles.items():
            table.add_row(gpu, str(p.epochs), f"{p.peak_power_w:.1f} +- {p.peak_power_std_w:.1f}",
                          f"{p.peak_duration_s:.2f} +- {p.peak_duration_std_s:.2f}",
                          f"{p.valley_power_w:.1f} +- {p.valley_power_std_w:.1f}",
                          f"{p.valley_duration_s:.2f} +- {p.valley_duration_std_s:.2f}")
            table.add_row("", "", *(f"{s.median:.4g} / {s.spread:.3g} / {s.count}" for s in
                                    (p.peak_power, p.peak_duration, p.valley_power, p.valley_duration)))
            for kind in p.valley_kinds:
                table.add_row("", f"{kind.name} valleys", "", "", f"{kind.power_w.median:.1f}",
                              f"{kind.duration_s.median:.2f} ({kind.share:.0%}, {kind.duration_s.count})")
        console.print(table)

    guard(body)
