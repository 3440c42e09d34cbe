"""Load forecasters on held-out data: accuracy, size, latency, and training time on this machine.

    python benchmarks/forecasting.py                    # simulated and Philly, README settings
    python benchmarks/forecasting.py --data philly --epochs 2 --batches 50   # quicker look
    python benchmarks/forecasting.py --data simulated --threads 1 &      # both at once, one core each
    python benchmarks/forecasting.py --data philly --threads 1

For each data source: trains the TCN teacher, the distilled student, its three ablations and the baselines
(``forecasters.load.pipeline.train_all``) with torch on ``--threads`` threads, then evaluates every model on the
chronological test part (``forecasters.load.evaluate``): MAE, RMSE, MAPE, MASE at 1, 5 and 15 steps,
parameters, bytes, latency of one prediction on one core (p50, p99) and batched predictions per second.
Prints the tables and writes ``benchmarks/results/forecasting_<data>.json`` and the trained models to
``benchmarks/results/forecasters_<data>/``.
"""

from __future__ import annotations

import argparse
import json
import platform
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from forecasters.load import load_forecaster
from forecasters.load.evaluate import evaluate
from forecasters.load.pipeline import Sizes, save_all, train_all
from forecasters.load.training import TrainSettings
from simulator.training_data.load_series import load_data

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def run(source: str, settings: TrainSettings, console: Console, reuse: list[str]) -> dict:
    data = load_data(source)
    folder = RESULTS / f"forecasters_{source}"
    kept = {}
    if reuse:
        previous = json.loads((folder / "training.json").read_text())
        if previous["settings"] != asdict(settings):
            raise SystemExit(f"{folder}: trained with other settings; cannot reuse {reuse}")
        kept = {name: (load_forecaster(folder / name), previous["train_seconds"][name]) for name in reuse}
    with console.status(f"{source}: training") as status:
        models, seconds = train_all(data, settings, Sizes(), progress=lambda n: status.update(f"{source}: {n}"),
                                    save_to=folder, reuse=kept)
    save_all(models, seconds, data, settings, folder)
    with console.status(f"{source}: evaluating"):
        table = evaluate(models, data.train, data.test)
    table["train_s"] = [seconds[name] for name in table.index]
    view = Table(title=f"{source}: held-out test, MAE in % of rated IT power")
    columns = ["MAE@1", "MAE@5", "MAE@15", "MASE@1", "params", "bytes", "p50 us", "p99 us", "pred/s", "train s"]
    for c in ["model", *columns]:
        view.add_column(c, justify="left" if c == "model" else "right")
    for name, r in table.iterrows():
        view.add_row(name, f"{100 * r['mae@1']:.3f}", f"{100 * r['mae@5']:.3f}", f"{100 * r['mae@15']:.3f}",
                     f"{r['mase@1']:.3f}", f"{int(r['parameters']):,}", f"{int(r['bytes']):,}",
                     f"{r['latency_p50_us']:.1f}", f"{r['latency_p99_us']:.1f}", f"{r['predictions_per_s']:,.0f}",
                     f"{r['train_s']:.1f}")
    console.print(view)
    return {"data": source, "test_series": [s.name for s in data.test],
            "models": table.reset_index().to_dict(orient="records")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["simulated", "philly", "both"], default="both")
    parser.add_argument("--epochs", type=int, default=TrainSettings.epochs)
    parser.add_argument("--batches", type=int, default=TrainSettings.batches_per_epoch)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reuse", nargs="*", default=[], metavar="MODEL",
                        help="load these models from an earlier run with the same settings instead of training them")
    args = parser.parse_args()
    settings = TrainSettings(epochs=args.epochs, batches_per_epoch=args.batches, seed=args.seed,
                             threads=args.threads)
    console = Console()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for source in (["simulated", "philly"] if args.data == "both" else [args.data]):
        result = run(source, settings, console, args.reuse)
        result.update({"settings": vars(args), "machine": platform.processor() or platform.machine()})
        (RESULTS / f"forecasting_{source}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
