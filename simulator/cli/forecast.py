"""``dcsim forecast train | eval | export``: the load forecasters from the command line.

Kept apart from :mod:`simulator.cli.main` so that ``dcsim run`` does not import torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from simulator.cli.terminal import console, guard, print_table
from simulator.common.errors import UserError

forecast_app = typer.Typer(help="Load forecasters: train the teacher and student, evaluate, export.",
                           no_args_is_help=True)

Data = Annotated[str, typer.Option("--data", help="simulated, philly, or a CSV of time,load_kw[,capacity_kw].")]


@forecast_app.command()
def train(
    data: Data = "simulated",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the models (one subfolder each).")] = Path(
        "forecasters-out"),
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs per model.")] = 4,
    batches: Annotated[int, typer.Option(min=1, help="Mini-batches per epoch.")] = 100,
    seed: Annotated[int, typer.Option(min=0, help="Seed of weights and batch order.")] = 0,
    threads: Annotated[int, typer.Option(min=1, help="torch threads.")] = 2,
    baselines: Annotated[bool, typer.Option(help="Also train the baselines (LSTM, GRU, NLinear, naive).")] = True,
    tiny: Annotated[bool, typer.Option(help="Tiny models and short simulated runs (for tests).")] = False,
) -> None:
    """Train the TCN teacher, the distilled student, its ablations and the baselines; save each under OUT."""
    from forecasters.load.pipeline import TINY, Sizes, save_all, train_all
    from forecasters.load.training import TrainSettings
    from simulator.training_data.load_series import load_data

    def body():
        settings = TrainSettings(epochs=epochs, batches_per_epoch=batches, seed=seed, threads=threads)
        with console.status(f"preparing {data} load series"):
            splits = load_data(data, days=3.0 if tiny else None)
        with console.status("training") as status:
            models, seconds = train_all(splits, settings, TINY if tiny else Sizes(), baselines,
                                        progress=lambda name: status.update(f"training {name}"))
        save_all(models, seconds, splits, settings, out)
        print_table(f"trained on {data}", ("model", "parameters", "train s"),
                    ((name, f"{m.num_parameters():,}", f"{seconds[name]:.1f}") for name, m in models.items()))
        console.print(f"models in [bold]{out}[/]", soft_wrap=True)

    guard(body)


def _models_in(folder: Path) -> dict:
    from forecasters.load import load_forecaster

    if (folder / "config.json").exists():
        return {folder.name: load_forecaster(folder)}
    found = sorted(p.parent for p in folder.glob("*/config.json"))
    if not found:
        raise UserError(f"{folder}: no saved forecaster (expected config.json in it or in its subfolders)")
    return {p.name: load_forecaster(p) for p in found}


@forecast_app.command("eval")
def evaluate(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A model folder or a folder of them.")],
    data: Data = "simulated",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    timing: Annotated[bool, typer.Option(help="Measure latency and throughput too.")] = True,
) -> None:
    """Errors at 1, 5 and 15 steps on the held-out test part, with size and speed, for every model in DIR."""
    from forecasters.load.evaluate import evaluate as run_evaluation
    from simulator.training_data.load_series import load_data

    def body():
        models = _models_in(folder)
        with console.status(f"evaluating on {data}"):
            splits = load_data(data)
            table = run_evaluation(models, splits.train, splits.test, timing=timing)
        if as_json:
            print(json.dumps(table.reset_index().to_dict(orient="records"), indent=2))
            return
        columns = ["mae@1", "mae@5", "mae@15", "mape@1", "mase@1", "parameters", "bytes"]
        columns += ["latency_p50_us", "latency_p99_us"] if timing else []
        print_table(f"held-out test: {data}", ["model", *columns],
                    ((name, *(f"{row[c]:.5f}" if c.startswith(("mae", "mase")) else
                              f"{row[c]:.2f}" if c.startswith(("mape", "latency")) else f"{int(row[c]):,}"
                              for c in columns)) for name, row in table.iterrows()))

    guard(body)


@forecast_app.command()
def export(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A student folder, or a folder holding student/.")],
    onnx: Annotated[bool, typer.Option("--onnx", help="Write student.onnx beside the weights.")] = False,
) -> None:
    """Export the student (ONNX)."""
    from forecasters.load import load_forecaster
    from forecasters.load.onnx_export import to_onnx
    from forecasters.load.student import StudentForecaster

    def body():
        if not onnx:
            raise UserError("choose a format: --onnx")
        target = folder / "student" if (folder / "student" / "config.json").exists() else folder
        model = load_forecaster(target)
        if not isinstance(model, StudentForecaster):
            raise UserError(f"{target}: expected a student forecaster, found {model.kind!r}")
        path = to_onnx(model, target / "student.onnx")
        console.print(f"wrote [bold]{path}[/] ({path.stat().st_size:,} bytes)", soft_wrap=True)

    guard(body)
